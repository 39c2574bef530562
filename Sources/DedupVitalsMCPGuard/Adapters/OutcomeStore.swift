import Foundation
import GRDB

/// Completed outcomes of guarded calls, in SQLite: they outlive the guard and the agent, so a repeat after a restart
/// is still a replay. Outcomes, not locks: a row is written once the server has answered, never before, so a crash
/// leaves no lock behind to expire (and no record that the call ran: see docs/mcp-guard.md#what-exactly-once-means).
///
/// WAL with `synchronous=NORMAL`: a commit writes the log without waiting for the disk, so storing an outcome costs
/// well under a millisecond on the relay path; an outcome committed just before a power loss may be lost (the call
/// then executes again), never half-written.
public final class OutcomeStore: Sendable {
    private let queue: DatabaseQueue

    public init(path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.writeWithoutTransaction { db in
            _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
            try db.execute(
                sql: """
                    CREATE TABLE IF NOT EXISTS mcp_guard_outcome (
                        id TEXT PRIMARY KEY,
                        fingerprint TEXT NOT NULL,
                        result TEXT NOT NULL,
                        first_ms INTEGER NOT NULL,
                        completed_ms INTEGER NOT NULL
                    ) WITHOUT ROWID
                    """)
        }
    }

    /// The outcome stored under `id` that completed at or after `sinceMs`.
    public func lookup(_ id: String, sinceMs: Int64) throws -> GuardPolicy.Stored? {
        try queue.read { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT * FROM mcp_guard_outcome WHERE id = ? AND completed_ms >= ?", arguments: [id, sinceMs]),
                let result = JSONValue(parsing: Array((row["result"] as String).utf8))
            else { return nil }
            return GuardPolicy.Stored(
                fingerprint: row["fingerprint"], result: result, firstMs: row["first_ms"], completedMs: row["completed_ms"])
        }
    }

    /// Stores (or replaces) the outcome of `id`.
    public func save(_ id: String, _ outcome: GuardPolicy.Stored) throws {
        try queue.write { db in
            try db.execute(
                sql:
                    "INSERT OR REPLACE INTO mcp_guard_outcome (id, fingerprint, result, first_ms, completed_ms) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    id, outcome.fingerprint, CanonicalJSON.text(outcome.result), outcome.firstMs, outcome.completedMs,
                ])
        }
    }

    /// Deletes the outcomes that completed before `beforeMs` (outside every window); how many.
    @discardableResult
    public func purge(beforeMs: Int64) throws -> Int {
        try queue.write { db in
            try db.execute(sql: "DELETE FROM mcp_guard_outcome WHERE completed_ms < ?", arguments: [beforeMs])
            return db.changesCount
        }
    }
}
