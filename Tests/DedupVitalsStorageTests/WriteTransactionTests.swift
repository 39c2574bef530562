import Foundation
import GRDB
import Testing

@testable import DedupVitalsStorage

/// The writer's transactions with cached BEGIN and COMMIT: what is committed is there, what fails leaves nothing and no
/// transaction open, whether the body, one of its statements or the COMMIT itself fails.
@Suite struct WriteTransactionTests {
    struct Refused: Error {}

    /// A pool on a new file with a table `t` and a table `child` whose foreign key is checked at COMMIT (a violation
    /// makes the COMMIT fail and leaves the transaction open), and a trigger that aborts inserting 13 into `t`.
    static func pool(in dir: TemporaryDirectory) throws -> DatabasePool {
        let pool = try DatabasePool(path: dir.file("db.sqlite"))
        try pool.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE t(value INTEGER NOT NULL);
                    CREATE TABLE parent(id INTEGER PRIMARY KEY);
                    CREATE TABLE child(parent INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);
                    CREATE TRIGGER thirteen BEFORE INSERT ON t WHEN NEW.value = 13 BEGIN SELECT RAISE(ABORT, 'thirteen'); END;
                    """)
        }
        return pool
    }

    static func values(_ pool: DatabasePool) throws -> [Int64] {
        try pool.read { db in try Int64.fetchAll(db, sql: "SELECT value FROM t ORDER BY rowid") }
    }

    /// Runs a transaction that inserts `values` into `t` (and, with `orphan`, a child row without its parent), then
    /// `then`; returns whether it committed, and checks that no transaction is left open.
    static func insert(
        _ values: [Int64], orphan: Bool = false, into pool: DatabasePool, then: () throws -> Void = {}
    ) throws -> Bool {
        try pool.writeWithoutTransaction { db in
            defer { #expect(!db.isInsideTransaction) }
            do {
                try WriteTransaction.run(in: db) {
                    for value in values {
                        let insert = try BoundStatement(db, sql: "INSERT INTO t(value) VALUES (?)")
                        insert.bind(value, at: 1)
                        try insert.run()
                    }
                    if orphan { try db.execute(sql: "INSERT INTO child(parent) VALUES (42)") }
                    try then()
                }
                return true
            } catch {
                return false
            }
        }
    }

    @Test func whatIsCommittedIsThereAndEachFailureLeavesNothing() throws {
        let dir = try TemporaryDirectory()
        let pool = try Self.pool(in: dir)
        #expect(try Self.insert([1, 2], into: pool))
        // The body throws after its inserts.
        #expect(try !Self.insert([3, 4], into: pool, then: { throw Refused() }))
        // A statement fails (the trigger aborts it; the transaction stays open until it is rolled back).
        #expect(try !Self.insert([5, 13, 6], into: pool))
        // The COMMIT fails (a deferred foreign key), which leaves the transaction open.
        #expect(try !Self.insert([7], orphan: true, into: pool))
        // The connection goes on: the next transaction begins and commits.
        #expect(try Self.insert([8], into: pool))
        #expect(try Self.values(pool) == [1, 2, 8])
        #expect(try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM child") } == 0)
        try pool.close()
    }

    @Test func aCommittedTransactionIsSeenByANewConnection() throws {
        let dir = try TemporaryDirectory()
        let pool = try Self.pool(in: dir)
        #expect(try Self.insert([1, 2, 3], into: pool))
        try pool.close()
        let reopened = try DatabaseQueue(path: dir.file("db.sqlite"))
        #expect(try reopened.read { db in try Int64.fetchAll(db, sql: "SELECT value FROM t ORDER BY rowid") } == [1, 2, 3])
        try reopened.close()
    }
}
