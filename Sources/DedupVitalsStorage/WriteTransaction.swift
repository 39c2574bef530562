import GRDB

/// A write transaction begun and committed with cached statements, for the writer's group commits.
///
/// GRDB's `write` begins and commits each transaction with `Database.execute(sql:)`, which builds an SQL literal and
/// parses and prepares `BEGIN IMMEDIATE TRANSACTION` and `COMMIT TRANSACTION` anew every time. With single-event
/// POSTs the writer commits thousands of groups of a few requests a second, and that preparing was ~18 % of the
/// writer thread's samples (docs/performance.md). Here both statements are cached and stepped with the C API
/// (``BoundStatement``); the rare rollback is prepared when it happens.
///
/// GRDB's own statements inside the transaction see it as usual (SQLite's autocommit flag is the truth it reads). No
/// transaction observers are registered on the store, so none misses the boundaries.
enum WriteTransaction {
    /// Runs `body` in one `IMMEDIATE` transaction on `db` (a connection with no transaction open) and commits it;
    /// when `body` or the commit throws, rolls back what is still open and rethrows.
    static func run<T>(in db: Database, _ body: () throws -> T) throws -> T {
        try BoundStatement(db, sql: "BEGIN IMMEDIATE TRANSACTION").run()
        do {
            let result = try body()
            try BoundStatement(db, sql: "COMMIT TRANSACTION").run()
            return result
        } catch {
            // GRDB's rollback skips a transaction that a failed statement already rolled back (SQLITE_FULL,
            // SQLITE_IOERR, …); a failed COMMIT (SQLITE_BUSY) leaves one open. The first error is the one thrown.
            try? db.rollback()
            throw error
        }
    }
}
