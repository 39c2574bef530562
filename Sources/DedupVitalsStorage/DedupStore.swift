import DedupVitalsCore
import Foundation
import GRDB
import OrderedCollections
import Synchronization

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
    /// Key-log compaction and the log's bookkeeping.
    public let compactor: KeyLogCompactor
    /// Checkpoints the WAL on a thread and connection of its own, so that commits never do.
    let checkpointer: WALCheckpointer
    /// The database id of every series in `series`, so that a commit inserts only new series (ids are what the
    /// aggregate and key logs refer to). Changed by the writer only: commits add, pruning removes.
    private let catalog: Mutex<[SeriesKey: Int64]>

    /// Opens (creating when missing) the database at `path`. A file that is not a dedup-vitals database is refused
    /// before anything is written to it.
    public convenience init(path: String, synchronous: Synchronous = .normal) throws(StorageError) {
        try self.init(path: path, synchronous: synchronous, checkpoints: .standard)
    }

    /// - Parameter checkpoints: when the WAL is checkpointed (tests use small limits).
    init(path: String, synchronous: Synchronous, checkpoints: WALCheckpointer.Limits) throws(StorageError) {
        self.path = path
        try Self.removingNewSidecarsOnFailure(of: path) { () throws(StorageError) in try Self.checkExistingFile(at: path) }
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.maximumReaderCount = 4
        // secure_delete FAST: deleted content is zeroed in pages that are written anyway, but freed pages are not
        // rewritten. Debian's SQLite defaults to full secure delete, which wrote every page freed by key-log
        // compaction to the WAL a second time, as zeros.
        let pragmas = "PRAGMA synchronous = \(synchronous.rawValue.uppercased()); PRAGMA secure_delete = FAST"
        configuration.prepareDatabase { db in try db.execute(sql: pragmas) }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try StorageSchema.migrator.migrate(pool)
            compactor = KeyLogCompactor(pool: pool)
            catalog = Mutex(try pool.read(Self.readCatalog))
            checkpointer = try WALCheckpointer(pool: pool, path: path, limits: checkpoints)
        } catch {
            throw .cannotOpen(path: path, reason: Self.describe(error))
        }
    }

    private static func readCatalog(_ db: Database) throws -> [SeriesKey: Int64] {
        var catalog: [SeriesKey: Int64] = [:]
        let rows = try Row.fetchCursor(db, sql: "SELECT id, service, operation FROM series")
        while let row = try rows.next() { catalog[SeriesKey(service: row[1], operation: row[2])] = row[0] }
        return catalog
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
        /// Key-log rows whose entries could not all be read (an entry this version does not know, such as one written
        /// by a newer version, or a damaged row): the entries before the fault were replayed, the rest skipped.
        public var unreadableKeyLogRows = 0
    }

    /// Rebuilds the rolling windows, key records, retry-delay histograms and client buckets from the database.
    /// Buckets older than `bucketsSinceMs` stay on disk only; key records not seen since `nowMs` minus their keep time
    /// are forgotten.
    public func load(
        bucketWidthMs: Int64, forensics settings: KeyForensics.Settings, maxClientsPerSeries: Int, bucketsSinceMs: Int64 = .min,
        nowMs: Int64? = nil
    ) throws(StorageError) -> LoadedState {
        let since = BucketClock.start(of: max(bucketsSinceMs, Int64.min / 2), widthMs: bucketWidthMs)
        // What the last run committed but did not fold (a crash, or the groups after the last fold): folded now, so
        // that the tables below are complete.
        try foldAggregates()
        do {
            return try pool.read { db in
                var windows = RollingWindows(bucketWidthMs: bucketWidthMs)
                var forensics = KeyForensics(settings: settings)
                var clients = ClientAttribution(maxClientsPerSeries: maxClientsPerSeries)
                var seriesByID: [Int64: SeriesKey] = [:]
                var bucketsBySeries: [Int64: [SeriesBuckets.Bucket]] = [:]
                let bucketRows = try Row.fetchCursor(
                    db,
                    sql:
                        "SELECT series_id, start_ms, \(Self.countColumns) FROM buckets WHERE start_ms >= ? ORDER BY series_id, start_ms",
                    arguments: [since])
                while let row = try bucketRows.next() {
                    let bucket = SeriesBuckets.Bucket(startMs: row[1], counts: Self.counts(row, from: 2))
                    bucketsBySeries[row[0], default: []].append(bucket)
                }
                let seriesRows = try Row.fetchCursor(
                    db, sql: "SELECT id, service, operation, last_seen_ms, \(Self.countColumns) FROM series")
                while let row = try seriesRows.next() {
                    let id: Int64 = row[0]
                    let key = SeriesKey(service: row[1], operation: row[2])
                    seriesByID[id] = key
                    windows.restore(
                        key, totals: Self.counts(row, from: 4), lastSeenMs: row[3], buckets: bucketsBySeries[id] ?? [])
                }
                let (log, unreadableKeyLogRows) = try Self.replayKeyLog(db, seriesByID: seriesByID, into: &forensics)
                compactor.loaded(log)
                if let nowMs { forensics.trimRestored(nowMs: nowMs) }
                let delayRows = try Row.fetchCursor(db, sql: "SELECT series_id, sum, buckets FROM retry_delays")
                while let row = try delayRows.next() {
                    guard let series = seriesByID[row[0]],
                        let histogram = RetryDelayHistogram(counts: Self.decodeCounts(row[2]), sum: row[1])
                    else { continue }
                    forensics.restoreHistogram(histogram, series: series)
                }
                let clientRows = try Row.fetchCursor(
                    db,
                    sql:
                        "SELECT series_id, client, start_ms, miss, hit, in_flight, completed, mismatch FROM client_buckets WHERE start_ms >= ?",
                    arguments: [since])
                while let row = try clientRows.next() {
                    guard let series = seriesByID[row[0]] else { continue }
                    let counts = OutcomeCounts(miss: row[3], hit: row[4], inFlight: row[5], completed: row[6], mismatch: row[7])
                    clients.restore(series: series, client: row[1], bucket: .init(startMs: row[2], counts: counts))
                }
                return LoadedState(
                    windows: windows, forensics: forensics, clients: clients, unreadableKeyLogRows: unreadableKeyLogRows)
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

    /// Writes one group of batches in one transaction: its aggregates as one `aggregate_log` row (folded later, see
    /// ``foldAggregates()``), a `series` row for each series never seen before, its key-log entries and idempotency
    /// records. Called by ``GroupCommitter`` only.
    func write(
        _ delta: BatchDelta, forensics: [KeyForensics.Changes], compaction: KeyLogCompactor.Pass? = nil,
        idempotencyRecords: [IdempotencyRecord], createdAtMs: Int64
    ) throws(StorageError) {
        var movedRowID: Int64?
        var appended: KeyLogCompactor.AppendedRow?
        var newSeries: [SeriesKey: Int64] = [:]
        let known = catalog.withLock { $0 }
        do {
            try pool.writeWithoutTransaction { db in
                try WriteTransaction.run(in: db) {
                    let insertSeries = try BoundStatement(
                        db,
                        sql: """
                            INSERT INTO series(service, operation, last_seen_ms) VALUES (?, ?, ?)
                            ON CONFLICT(service, operation) DO UPDATE SET last_seen_ms = max(last_seen_ms, excluded.last_seen_ms)
                            RETURNING id
                            """)
                    // Each cell's series id, found once: the row's cells and client cells take it from here.
                    var cellSeriesIDs: [Int64] = []
                    cellSeriesIDs.reserveCapacity(delta.cells.count)
                    for cell in delta.cells.keys {
                        if let id = known[cell.series] ?? newSeries[cell.series] {
                            cellSeriesIDs.append(id)
                            continue
                        }
                        insertSeries.bind(cell.series.service, at: 1)
                        insertSeries.bind(cell.series.operation, at: 2)
                        insertSeries.bind(delta.receivedAtMs, at: 3)
                        // The upsert returns the row whether it inserted it or not.
                        guard let id = try insertSeries.run() else {
                            throw DatabaseError(resultCode: .SQLITE_ERROR, message: "no id returned for a series row")
                        }
                        newSeries[cell.series] = id
                        cellSeriesIDs.append(id)
                    }
                    let seriesID = { (series: SeriesKey) -> Int64? in known[series] ?? newSeries[series] }
                    let delays = KeyForensics.Changes.mergedDelays(forensics)
                    if !delta.cells.isEmpty || !delays.isEmpty {
                        try AggregateLog.appendRow(
                            AggregateLog.encode(
                                delta, cellSeriesIDs: cellSeriesIDs, delays: delays, seriesID: { seriesID($0) ?? 0 }),
                            db: db)
                    }
                    // Entries moved by compaction go first: the group's own entries for the same keys must follow them.
                    if let compaction { movedRowID = try KeyLogCompactor.apply(compaction, in: db) }
                    if !forensics.isEmpty {
                        let (bytes, count) = KeyLog.encode(forensics, seriesID: seriesID)
                        if count > 0 {
                            appended = .init(
                                id: try KeyLog.appendRow(bytes, db: db), entries: count,
                                labelBound: forensics.lazy.map(\.labelBound).max() ?? .max)
                        }
                    }
                    if !idempotencyRecords.isEmpty {
                        let insert = try db.cachedStatement(
                            sql: """
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
            }
        } catch {
            throw .unavailable(reason: Self.describe(error))
        }
        if !newSeries.isEmpty { catalog.withLock { $0.merge(newSeries) { _, new in new } } }
        compactor.committed(compaction, movedRowID: movedRowID, appended: appended)
    }

    /// What one fold did.
    public struct FoldResult: Sendable, Equatable {
        /// `aggregate_log` rows folded (and deleted).
        public var rows: Int
        /// (series, bucket) and (series, client, bucket) cells written.
        public var cells: Int
        /// Rows that could not be decoded (deleted, reported, never added).
        public var malformedRows: Int
    }

    /// Folds every `aggregate_log` row into the aggregate tables and deletes the rows, in one transaction: a crash
    /// leaves either the rows or their sums, never both and never neither. Runs on its own schedule (``GroupCommitter``
    /// commits keep appending meanwhile), before pruning, and at start.
    ///
    /// The rows are read and summed on a reader first, so that SQLite's single writer is held only for the upserts and
    /// the delete. Rows are only appended (by commits) and deleted (by folds), so the rows up to the last one read are
    /// the same in the write transaction, unless a fold ran in between (pruning folds too): then the delete removes
    /// fewer rows than were read, and this fold is abandoned.
    @discardableResult
    public func foldAggregates() throws(StorageError) -> FoldResult {
        struct Overtaken: Error {}
        do {
            let (fold, read, lastID) = try pool.read { db in try Self.readAggregateLog(db) }
            guard read.rows > 0 else { return read }
            return try pool.write { db in
                try db.execute(sql: "DELETE FROM aggregate_log WHERE id <= ?", arguments: [lastID])
                guard db.changesCount == read.rows else { throw Overtaken() }
                try fold.write(in: db)
                return read
            }
        } catch is Overtaken {
            return FoldResult(rows: 0, cells: 0, malformedRows: 0)
        } catch {
            throw .unavailable(reason: Self.describe(error))
        }
    }

    /// Folds inside a write transaction (pruning's).
    private static func fold(_ db: Database) throws {
        let (fold, read, lastID) = try readAggregateLog(db)
        guard read.rows > 0 else { return }
        try fold.write(in: db)
        try db.execute(sql: "DELETE FROM aggregate_log WHERE id <= ?", arguments: [lastID])
    }

    /// Every row of the aggregate log summed, what was read, and the last row's id.
    private static func readAggregateLog(_ db: Database) throws -> (AggregateFold, FoldResult, lastID: Int64) {
        var fold = AggregateFold()
        var result = FoldResult(rows: 0, cells: 0, malformedRows: 0)
        var lastID: Int64 = 0
        let rows = try Row.fetchCursor(db, sql: "SELECT id, body FROM aggregate_log ORDER BY id")
        while let row = try rows.next() {
            lastID = row[0]
            result.rows += 1
            let decoded = try row.withUnsafeData(atIndex: 1) { data in
                data.map { $0.withUnsafeBytes { AggregateLog.decode($0, into: &fold) } } ?? false
            }
            if !decoded { result.malformedRows += 1 }
        }
        result.cells = fold.cellCount
        return (fold, result, lastID)
    }

    /// Replays the key log into `forensics` (the last entry of a key wins); returns the log's bookkeeping, each row
    /// counted with the key table's label bound once the row is replayed, and how many rows could not be read to
    /// their end.
    private static func replayKeyLog(
        _ db: Database, seriesByID: [Int64: SeriesKey], into forensics: inout KeyForensics
    ) throws -> (log: KeyLog, unreadableRows: Int) {
        var log = KeyLog()
        var unreadableRows = 0
        let rows = try Row.fetchCursor(db, sql: "SELECT id, records FROM key_log ORDER BY id")
        while let row = try rows.next() {
            var entries = 0
            let blob: Data = row[1]
            // A malformed blob delivers its entries up to the fault (a claim below reads rows the same way).
            let complete = blob.withUnsafeBytes { bytes in
                KeyLog.forEachEntry(in: bytes) { entry in
                    entries += 1
                    if let record = entry.record {
                        guard let series = seriesByID[entry.seriesID] else { return }
                        forensics.restore(entry.hash, series: series, record: record)
                    } else {
                        forensics.forget(entry.hash)
                    }
                }
            }
            if !complete { unreadableRows += 1 }
            log.appendRow(id: row[0], entries: entries, labelBound: forensics.table.labelBound)
        }
        return (log, unreadableRows)
    }

    /// Entries in the key log, current or superseded (for tests and metrics).
    public var keyLogEntries: Int { compactor.entries }

    /// Deletes buckets older than the retention, series idle for the retention, and expired idempotency records;
    /// logs the removal of `removedKeys` (the keys of those series), so that a series id reused later never inherits
    /// them. Expired key records need no removal: the log's compaction drops them, and a restart forgets them again.
    public func prune(
        nowMs: Int64, retentionMs: Int64, idempotencyTTLMs: Int64, bucketWidthMs: Int64, removedKeys: [KeyHash] = []
    ) throws(StorageError) {
        let cutoff = nowMs - retentionMs
        let bucketCutoff = BucketClock.start(of: cutoff, widthMs: bucketWidthMs)
        var removedSeries: Set<Int64> = []
        var removalRowID: Int64?
        do {
            try pool.write { db in
                // Folded first: a series' last-seen time and totals are current only once its groups are folded.
                try Self.fold(db)
                removedSeries = Set(
                    try Int64.fetchAll(db, sql: "DELETE FROM series WHERE last_seen_ms < ? RETURNING id", arguments: [cutoff]))
                try db.execute(sql: "DELETE FROM buckets WHERE start_ms < ?", arguments: [bucketCutoff])
                try db.execute(sql: "DELETE FROM client_buckets WHERE start_ms < ?", arguments: [bucketCutoff])
                if !removedKeys.isEmpty {
                    var bytes: [UInt8] = []
                    for hash in removedKeys { KeyLog.append(hash: hash, seriesID: 0, record: nil, to: &bytes) }
                    removalRowID = try KeyLog.appendRow(bytes, db: db)
                }
                try db.execute(sql: "DELETE FROM ingest_requests WHERE created_ms < ?", arguments: [nowMs - idempotencyTTLMs])
            }
        } catch {
            throw .unavailable(reason: Self.describe(error))
        }
        if !removedSeries.isEmpty { catalog.withLock { $0 = $0.filter { !removedSeries.contains($0.value) } } }
        if let removalRowID { compactor.logged(rowID: removalRowID, entries: removedKeys.count) }
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

    /// Closes the database after a final WAL checkpoint (the checkpointer stopped first, so that the two do not
    /// meet). Throws when the checkpoint or the close failed; the committed data is safe either way (the WAL is
    /// replayed at the next open).
    public func close() throws(StorageError) {
        var failure: StorageError?
        do {
            try checkpointer.stop()
        } catch {
            failure = .unavailable(reason: "stopping the checkpointer failed: \(Self.describe(error))")
        }
        do {
            _ = try pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
        } catch {
            failure = .unavailable(reason: "final checkpoint failed: \(Self.describe(error))")
        }
        do {
            try pool.close()
        } catch {
            failure = failure ?? .unavailable(reason: "close failed: \(Self.describe(error))")
        }
        if let failure { throw failure }
    }
}
