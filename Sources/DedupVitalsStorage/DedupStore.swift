import DedupVitalsCore
import Foundation
import GRDB

/// The SQLite adapter: one WAL database file holding aggregates, the key-hash secret and ingest idempotency records.
///
/// Writes go through ``GroupCommitter`` (one transaction for many requests); reads use the pool's readers.
public final class DedupStore: Sendable {
    /// How hard SQLite syncs to disk. `normal` (the default) survives any process crash; `full` also survives power loss.
    public enum Synchronous: String, Sendable, CaseIterable {
        case normal, full
    }

    public let path: String
    let pool: DatabasePool

    /// Opens (creating when missing) the database at `path`. A file that is not a dedup-vitals database is refused
    /// before anything is written to it.
    public init(path: String, synchronous: Synchronous = .normal) throws(StorageError) {
        self.path = path
        try Self.checkExistingFile(at: path)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.maximumReaderCount = 4
        let pragma = "PRAGMA synchronous = \(synchronous.rawValue.uppercased())"
        configuration.prepareDatabase { db in try db.execute(sql: pragma) }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try StorageSchema.migrator.migrate(pool)
        } catch {
            throw .cannotOpen(path: path, reason: Self.describe(error))
        }
    }

    /// Refuses foreign or damaged files with a read-only look, so that they are left untouched.
    private static func checkExistingFile(at path: String) throws(StorageError) {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        guard let size = attributes?[.size] as? Int, size > 0 else { return }
        var configuration = Configuration()
        configuration.readonly = true
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            let (applicationID, tableCount, check) = try queue.read { db in
                (
                    try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0,
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master WHERE type = 'table'") ?? 0,
                    try String.fetchOne(db, sql: "PRAGMA quick_check(1)") ?? "ok"
                )
            }
            try queue.close()
            guard check == "ok" else { throw StorageError.cannotOpen(path: path, reason: "the file is damaged (\(check))") }
            if applicationID != StorageSchema.applicationID, applicationID != 0 || tableCount > 0 {
                throw StorageError.foreignDatabase(path: path, reason: "it belongs to another application")
            }
        } catch let error as StorageError {
            throw error
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw .foreignDatabase(path: path, reason: "the file is not a SQLite database")
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CORRUPT {
            throw .cannotOpen(path: path, reason: "the file is damaged")
        } catch {
            throw .cannotOpen(path: path, reason: describe(error))
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            return error.message ?? "\(error.resultCode)"
        }
        return "\(error)"
    }

    // MARK: Secret

    /// The per-database secret for keyed hashes of idempotency keys; generated at first start, kept in the database.
    public func keyHashSecret() throws(StorageError) -> [UInt8] {
        do {
            return try pool.write { db in
                if let existing = try Data.fetchOne(db, sql: "SELECT value FROM meta WHERE name = 'key_hash_secret'") {
                    return [UInt8](existing)
                }
                var secret = [UInt8](repeating: 0, count: 32)
                var generator = SystemRandomNumberGenerator()
                for i in secret.indices { secret[i] = UInt8.random(in: .min ... .max, using: &generator) }
                try db.execute(
                    sql: "INSERT INTO meta(name, value) VALUES ('key_hash_secret', ?)", arguments: [Data(secret)])
                return secret
            }
        } catch {
            throw .unavailable(reason: Self.describe(error))
        }
    }

    // MARK: Loading

    /// Rebuilds the rolling windows from the database.
    public func loadWindows(bucketWidthMs: Int64) throws(StorageError) -> RollingWindows {
        do {
            return try pool.read { db in
                var windows = RollingWindows(bucketWidthMs: bucketWidthMs)
                var bucketsBySeries: [Int64: [SeriesBuckets.Bucket]] = [:]
                let bucketRows = try Row.fetchCursor(
                    db, sql: "SELECT series_id, start_ms, miss, hit, in_flight, completed, mismatch FROM buckets ORDER BY series_id, start_ms")
                while let row = try bucketRows.next() {
                    let bucket = SeriesBuckets.Bucket(startMs: row[1], counts: Self.counts(row, from: 2))
                    bucketsBySeries[row[0], default: []].append(bucket)
                }
                let seriesRows = try Row.fetchCursor(
                    db, sql: "SELECT id, service, operation, last_seen_ms, miss, hit, in_flight, completed, mismatch FROM series")
                while let row = try seriesRows.next() {
                    let id: Int64 = row[0]
                    windows.restore(
                        SeriesKey(service: row[1], operation: row[2]), totals: Self.counts(row, from: 4),
                        lastSeenMs: row[3], buckets: bucketsBySeries[id] ?? [])
                }
                return windows
            }
        } catch {
            throw .unavailable(reason: Self.describe(error))
        }
    }

    private static func counts(_ row: Row, from index: Int) -> OutcomeCounts {
        OutcomeCounts(miss: row[index], hit: row[index + 1], inFlight: row[index + 2], completed: row[index + 3], mismatch: row[index + 4])
    }

    // MARK: Writing

    /// Writes one group of batches in one transaction. Called by ``GroupCommitter`` only.
    func write(_ delta: BatchDelta, idempotencyRecords: [IdempotencyRecord], createdAtMs: Int64) throws(StorageError) {
        do {
            try pool.write { db in
                var seriesIDs: [SeriesKey: Int64] = [:]
                let upsertSeries = try db.cachedStatement(sql: """
                    INSERT INTO series(service, operation, last_seen_ms, miss, hit, in_flight, completed, mismatch)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(service, operation) DO UPDATE SET
                        last_seen_ms = max(last_seen_ms, excluded.last_seen_ms),
                        miss = miss + excluded.miss, hit = hit + excluded.hit, in_flight = in_flight + excluded.in_flight,
                        completed = completed + excluded.completed, mismatch = mismatch + excluded.mismatch
                    RETURNING id
                    """)
                for (series, totals) in delta.totalsBySeries {
                    let id = try Int64.fetchOne(upsertSeries, arguments: [
                        series.service, series.operation, delta.receivedAtMs,
                        totals.miss, totals.hit, totals.inFlight, totals.completed, totals.mismatch,
                    ])
                    seriesIDs[series] = id
                }
                let upsertBucket = try db.cachedStatement(sql: """
                    INSERT INTO buckets(series_id, start_ms, miss, hit, in_flight, completed, mismatch)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(series_id, start_ms) DO UPDATE SET
                        miss = miss + excluded.miss, hit = hit + excluded.hit, in_flight = in_flight + excluded.in_flight,
                        completed = completed + excluded.completed, mismatch = mismatch + excluded.mismatch
                    """)
                for (cell, counts) in delta.cells {
                    try upsertBucket.execute(arguments: [
                        seriesIDs[cell.series], cell.bucketStartMs,
                        counts.miss, counts.hit, counts.inFlight, counts.completed, counts.mismatch,
                    ])
                }
                if !idempotencyRecords.isEmpty {
                    let insert = try db.cachedStatement(sql: """
                        INSERT OR REPLACE INTO ingest_requests(scope, idempotency_key, body_sha256, status, response, created_ms)
                        VALUES (?, ?, ?, ?, ?, ?)
                        """)
                    for record in idempotencyRecords {
                        try insert.execute(arguments: [
                            record.scope, record.key, record.response.bodySHA256, record.response.status,
                            record.response.body, createdAtMs,
                        ])
                    }
                }
            }
        } catch {
            throw .unavailable(reason: Self.describe(error))
        }
    }

    /// Deletes buckets older than the retention, series idle for the retention, and expired idempotency records.
    public func prune(nowMs: Int64, retentionMs: Int64, idempotencyTTLMs: Int64, bucketWidthMs: Int64) throws(StorageError) {
        let cutoff = nowMs - retentionMs
        do {
            try pool.write { db in
                try db.execute(sql: "DELETE FROM series WHERE last_seen_ms < ?", arguments: [cutoff])
                try db.execute(
                    sql: "DELETE FROM buckets WHERE start_ms < ?",
                    arguments: [BucketClock.start(of: cutoff, widthMs: bucketWidthMs)])
                try db.execute(sql: "DELETE FROM ingest_requests WHERE created_ms < ?", arguments: [nowMs - idempotencyTTLMs])
            }
        } catch {
            throw .unavailable(reason: Self.describe(error))
        }
    }

    // MARK: Reading

    /// The stored response for an ingest idempotency key, if any.
    public func storedResponse(scope: String, key: String) throws(StorageError) -> StoredResponse? {
        do {
            return try pool.read { db in
                try Row.fetchOne(
                    db, sql: "SELECT body_sha256, status, response FROM ingest_requests WHERE scope = ? AND idempotency_key = ?",
                    arguments: [scope, key]
                ).map { StoredResponse(bodySHA256: $0[0], status: $0[1], body: $0[2]) }
            }
        } catch {
            throw .unavailable(reason: Self.describe(error))
        }
    }

    /// Whether the database is open and accepts writes right now (used by `/readyz`).
    public func probeWritable() -> Result<Void, StorageError> {
        do {
            try pool.write { db in
                try db.execute(sql: "INSERT OR REPLACE INTO meta(name, value) VALUES ('ready_probe', 1)")
            }
            return .success(())
        } catch {
            return .failure(.unavailable(reason: Self.describe(error)))
        }
    }

    /// Closes the database after a final WAL checkpoint.
    public func close() {
        try? pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
        try? pool.close()
    }
}
