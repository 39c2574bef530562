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
        try Self.removingNewSidecarsOnFailure(of: path) { () throws(StorageError) in try Self.checkExistingFile(at: path) }
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
            let problem = check.split(whereSeparator: \.isNewline).joined(separator: "; ")
            guard check == "ok" else { throw StorageError.cannotOpen(path: path, reason: "the file is damaged (\(problem))") }
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

    /// Everything rebuilt from the database at start.
    public struct LoadedState: Sendable {
        public var windows: RollingWindows
        public var forensics: KeyForensics
        public var clients: ClientAttribution
    }

    /// Rebuilds the rolling windows, key records, retry-delay histograms and client buckets from the database.
    /// Buckets older than `bucketsSinceMs` stay on disk only.
    public func load(
        bucketWidthMs: Int64, forensics settings: KeyForensics.Settings, maxClientsPerSeries: Int, bucketsSinceMs: Int64 = .min
    ) throws(StorageError) -> LoadedState {
        let since = BucketClock.start(of: max(bucketsSinceMs, Int64.min / 2), widthMs: bucketWidthMs)
        do {
            return try pool.read { db in
                var windows = RollingWindows(bucketWidthMs: bucketWidthMs)
                var forensics = KeyForensics(settings: settings)
                var clients = ClientAttribution(maxClientsPerSeries: maxClientsPerSeries)
                var seriesByID: [Int64: SeriesKey] = [:]
                var bucketsBySeries: [Int64: [SeriesBuckets.Bucket]] = [:]
                let bucketRows = try Row.fetchCursor(db, sql: "SELECT series_id, start_ms, \(Self.countColumns) FROM buckets WHERE start_ms >= ? ORDER BY series_id, start_ms", arguments: [since])
                while let row = try bucketRows.next() {
                    let bucket = SeriesBuckets.Bucket(startMs: row[1], counts: Self.counts(row, from: 2))
                    bucketsBySeries[row[0], default: []].append(bucket)
                }
                let seriesRows = try Row.fetchCursor(db, sql: "SELECT id, service, operation, last_seen_ms, \(Self.countColumns) FROM series")
                while let row = try seriesRows.next() {
                    let id: Int64 = row[0]
                    let key = SeriesKey(service: row[1], operation: row[2])
                    seriesByID[id] = key
                    windows.restore(key, totals: Self.counts(row, from: 4), lastSeenMs: row[3], buckets: bucketsBySeries[id] ?? [])
                }
                let keyRows = try Row.fetchCursor(db, sql: "SELECT hash, series_id, record FROM key_records")
                while let row = try keyRows.next() {
                    let hash: Data = row[0]
                    guard let series = seriesByID[row[1]], let record = KeyRecordCodec.decode(row[2], seriesIndex: 0) else { continue }
                    forensics.restore(KeyHash(digest: hash), series: series, record: record)
                }
                let delayRows = try Row.fetchCursor(db, sql: "SELECT series_id, sum, buckets FROM retry_delays")
                while let row = try delayRows.next() {
                    guard let series = seriesByID[row[0]],
                          let histogram = RetryDelayHistogram(counts: Self.decodeCounts(row[2]), sum: row[1]) else { continue }
                    forensics.restoreHistogram(histogram, series: series)
                }
                let clientRows = try Row.fetchCursor(db, sql: "SELECT series_id, client, start_ms, miss, hit, in_flight, completed, mismatch FROM client_buckets WHERE start_ms >= ?", arguments: [since])
                while let row = try clientRows.next() {
                    guard let series = seriesByID[row[0]] else { continue }
                    let counts = OutcomeCounts(miss: row[3], hit: row[4], inFlight: row[5], completed: row[6], mismatch: row[7])
                    clients.restore(series: series, client: row[1], bucket: .init(startMs: row[2], counts: counts))
                }
                return LoadedState(windows: windows, forensics: forensics, clients: clients)
            }
        } catch {
            throw .unavailable(reason: Self.describe(error))
        }
    }

    static let countColumns = "miss, hit, in_flight, completed, mismatch, double_executions, late_retries, narrow_keys"

    private static func counts(_ row: Row, from index: Int) -> OutcomeCounts {
        OutcomeCounts(
            miss: row[index], hit: row[index + 1], inFlight: row[index + 2], completed: row[index + 3], mismatch: row[index + 4],
            doubleExecutions: row[index + 5], lateRetries: row[index + 6], narrowKeys: row[index + 7])
    }

    private static func countArguments(_ counts: OutcomeCounts) -> [Int64] {
        [counts.miss, counts.hit, counts.inFlight, counts.completed, counts.mismatch, counts.doubleExecutions, counts.lateRetries, counts.narrowKeys]
    }

    static func encodeCounts(_ counts: [Int64]) -> Data {
        var data = Data(capacity: counts.count * 8)
        for value in counts { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        return data
    }

    static func decodeCounts(_ data: Data) -> [Int64] {
        let bytes = [UInt8](data)
        return stride(from: 0, to: bytes.count - 7, by: 8).map { start in
            (0..<8).reduce(Int64(0)) { $0 | Int64(bytes[start + $1]) << (8 * $1) }
        }
    }

    // MARK: Writing

    /// Writes one group of batches in one transaction: aggregates, key records, histograms, client buckets and
    /// idempotency records. Called by ``GroupCommitter`` only.
    func write(
        _ delta: BatchDelta, forensics: KeyForensics.Changes?, idempotencyRecords: [IdempotencyRecord], createdAtMs: Int64
    ) throws(StorageError) {
        do {
            try pool.write { db in
                var seriesIDs: [SeriesKey: Int64] = [:]
                let upsertSeries = try db.cachedStatement(sql: """
                    INSERT INTO series(service, operation, last_seen_ms, \(Self.countColumns))
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(service, operation) DO UPDATE SET
                        last_seen_ms = max(last_seen_ms, excluded.last_seen_ms),
                        miss = miss + excluded.miss, hit = hit + excluded.hit, in_flight = in_flight + excluded.in_flight,
                        completed = completed + excluded.completed, mismatch = mismatch + excluded.mismatch,
                        double_executions = double_executions + excluded.double_executions,
                        late_retries = late_retries + excluded.late_retries, narrow_keys = narrow_keys + excluded.narrow_keys
                    RETURNING id
                    """)
                for (series, totals) in delta.totalsBySeries {
                    var arguments: [any DatabaseValueConvertible] = [series.service, series.operation, delta.receivedAtMs]
                    arguments += Self.countArguments(totals)
                    seriesIDs[series] = try Int64.fetchOne(upsertSeries, arguments: StatementArguments(arguments))
                }
                let upsertBucket = try db.cachedStatement(sql: """
                    INSERT INTO buckets(series_id, start_ms, \(Self.countColumns))
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(series_id, start_ms) DO UPDATE SET
                        miss = miss + excluded.miss, hit = hit + excluded.hit, in_flight = in_flight + excluded.in_flight,
                        completed = completed + excluded.completed, mismatch = mismatch + excluded.mismatch,
                        double_executions = double_executions + excluded.double_executions,
                        late_retries = late_retries + excluded.late_retries, narrow_keys = narrow_keys + excluded.narrow_keys
                    """)
                for (cell, counts) in delta.cells {
                    var arguments: [any DatabaseValueConvertible] = [seriesIDs[cell.series], cell.bucketStartMs]
                    arguments += Self.countArguments(counts)
                    try upsertBucket.execute(arguments: StatementArguments(arguments))
                }
                if !delta.clientCells.isEmpty {
                    let upsertClient = try db.cachedStatement(sql: """
                        INSERT INTO client_buckets(series_id, client, start_ms, miss, hit, in_flight, completed, mismatch)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT(series_id, client, start_ms) DO UPDATE SET
                            miss = miss + excluded.miss, hit = hit + excluded.hit, in_flight = in_flight + excluded.in_flight,
                            completed = completed + excluded.completed, mismatch = mismatch + excluded.mismatch
                        """)
                    for (cell, counts) in delta.clientCells {
                        try upsertClient.execute(arguments: [
                            seriesIDs[cell.series], cell.client, cell.bucketStartMs,
                            counts.miss, counts.hit, counts.inFlight, counts.completed, counts.mismatch,
                        ])
                    }
                }
                if let forensics {
                    try Self.writeForensics(forensics, seriesIDs: seriesIDs, db: db)
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

    private static func writeForensics(_ changes: KeyForensics.Changes, seriesIDs: [SeriesKey: Int64], db: Database) throws {
        let upsertKey = try db.cachedStatement(sql: "INSERT OR REPLACE INTO key_records(hash, series_id, last_seen_ms, record) VALUES (?, ?, ?, ?)")
        let deleteKey = try db.cachedStatement(sql: "DELETE FROM key_records WHERE hash = ?")
        for (hash, record) in changes.records {
            let hashData = Data(hash.bytes)
            if let record, let series = changes.recordSeries[hash], let seriesID = seriesIDs[series] {
                try upsertKey.execute(arguments: [hashData, seriesID, record.lastSeenMs, KeyRecordCodec.encode(record)])
            } else if record == nil {
                try deleteKey.execute(arguments: [hashData])
            }
        }
        if !changes.histograms.isEmpty {
            let upsertDelays = try db.cachedStatement(sql: "INSERT OR REPLACE INTO retry_delays(series_id, sum, buckets) VALUES (?, ?, ?)")
            for (series, histogram) in changes.histograms {
                guard let seriesID = seriesIDs[series] else { continue }
                try upsertDelays.execute(arguments: [seriesID, histogram.sum, encodeCounts(histogram.counts)])
            }
        }
    }

    /// Deletes buckets older than the retention, series idle for the retention, and expired idempotency records.
    public func prune(
        nowMs: Int64, retentionMs: Int64, idempotencyTTLMs: Int64, bucketWidthMs: Int64, keyKeepMs: Int64
    ) throws(StorageError) {
        let cutoff = nowMs - retentionMs
        let bucketCutoff = BucketClock.start(of: cutoff, widthMs: bucketWidthMs)
        do {
            try pool.write { db in
                try db.execute(sql: "DELETE FROM series WHERE last_seen_ms < ?", arguments: [cutoff])
                try db.execute(sql: "DELETE FROM buckets WHERE start_ms < ?", arguments: [bucketCutoff])
                try db.execute(sql: "DELETE FROM client_buckets WHERE start_ms < ?", arguments: [bucketCutoff])
                try db.execute(sql: "DELETE FROM key_records WHERE last_seen_ms < ?", arguments: [nowMs - keyKeepMs])
                try db.execute(sql: "DELETE FROM key_records WHERE series_id NOT IN (SELECT id FROM series)")
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
