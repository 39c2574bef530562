import Foundation
import GRDB

/// Idempotency records in a SQLite file (WAL): they survive restarts, and every process of a host that opens the
/// same file shares them. Each decision is one `IMMEDIATE` transaction, so two processes racing for a key see one
/// winner; a lock left by a process that died expires at its `lock_expires_ms`.
public final class SQLiteIdempotencyStore: IdempotencyStore {
    private let pool: DatabasePool

    /// Opens (creating when missing) the store at `path`. `busyTimeout` is how long a write waits for another
    /// process's transaction.
    public init(path: String, busyTimeout: Duration = .seconds(5)) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(TimeInterval(busyTimeout.components.seconds))
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        pool = try DatabasePool(path: path, configuration: configuration)
        try pool.write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS idempotency_keys (
                    key TEXT PRIMARY KEY NOT NULL,
                    fingerprint TEXT NOT NULL,
                    token TEXT,
                    first_attempt_ms INTEGER NOT NULL,
                    lock_expires_ms INTEGER NOT NULL,
                    expires_ms INTEGER NOT NULL,
                    status INTEGER,
                    headers BLOB,
                    body BLOB
                ) WITHOUT ROWID;
                CREATE INDEX IF NOT EXISTS idempotency_keys_expiry ON idempotency_keys (expires_ms);
                """)
        }
    }

    public func begin(_ claim: IdempotencyClaim) async throws -> BeginResult {
        try await immediate { db in
            var tookOver = false
            if let row = try Row.fetchOne(
                db, sql: "SELECT fingerprint, first_attempt_ms, lock_expires_ms, expires_ms, status, headers, body FROM idempotency_keys WHERE key = ?",
                arguments: [claim.key])
            {
                let status: Int? = row["status"]
                let expired = (row["expires_ms"] as Int64) <= claim.nowMs
                let staleLock = status == nil && (row["lock_expires_ms"] as Int64) <= claim.nowMs
                if !expired && !staleLock {
                    guard (row["fingerprint"] as String) == claim.fingerprint else { return .mismatch }
                    let firstAttemptMs: Int64 = row["first_attempt_ms"]
                    guard let status else { return .inFlight(firstAttemptMs: firstAttemptMs) }
                    let headers = try JSONDecoder().decode([StoredResponse.Field].self, from: row["headers"] as Data)
                    let body = (row["body"] as Data?).map { [UInt8]($0) } ?? []
                    return .completed(StoredResponse(status: status, headers: headers, body: body), firstAttemptMs: firstAttemptMs)
                }
                tookOver = staleLock && !expired
            }
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO idempotency_keys (key, fingerprint, token, first_attempt_ms, lock_expires_ms, expires_ms)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [claim.key, claim.fingerprint, claim.token, claim.nowMs, claim.lockExpiresAtMs, claim.expiresAtMs])
            return .acquired(tookOverStaleLock: tookOver)
        }
    }

    public func complete(key: String, token: String, response: StoredResponse, expiresAtMs: Int64) async throws -> Bool {
        let headers = try JSONEncoder().encode(response.headers)
        return try await immediate { db in
            try db.execute(
                sql: """
                    UPDATE idempotency_keys SET token = NULL, status = ?, headers = ?, body = ?, expires_ms = ?
                    WHERE key = ? AND token = ? AND status IS NULL
                    """,
                arguments: [response.status, headers, Data(response.body), expiresAtMs, key, token])
            return db.changesCount == 1
        }
    }

    public func extendLock(key: String, token: String, until lockExpiresAtMs: Int64) async throws -> Bool {
        try await immediate { db in
            try db.execute(
                sql: "UPDATE idempotency_keys SET lock_expires_ms = ? WHERE key = ? AND token = ? AND status IS NULL",
                arguments: [lockExpiresAtMs, key, token])
            return db.changesCount == 1
        }
    }

    public func release(key: String, token: String) async throws {
        try await immediate { db in
            try db.execute(
                sql: "DELETE FROM idempotency_keys WHERE key = ? AND token = ? AND status IS NULL", arguments: [key, token])
        }
    }

    public func removeExpired(nowMs: Int64) async throws -> Int {
        try await immediate { db in
            try db.execute(sql: "DELETE FROM idempotency_keys WHERE expires_ms <= ?", arguments: [nowMs])
            return db.changesCount
        }
    }

    /// One `BEGIN IMMEDIATE` transaction: the write lock is taken before the read, so two processes deciding about
    /// the same key never both see it absent.
    private func immediate<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await pool.writeWithoutTransaction { db in
            var result: T?
            try db.inTransaction(.immediate) {
                result = try body(db)
                return .commit
            }
            return result!
        }
    }
}
