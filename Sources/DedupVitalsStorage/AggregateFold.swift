import DedupVitalsCore
import GRDB

/// Aggregates of `aggregate_log` rows summed for one fold: each cell once, however many groups touched it.
///
/// Keyed by the series' database id, so that decoding a row hashes integers (and a client name) rather than series
/// names.
struct AggregateFold {
    /// Cells hash their integers with ``HashMixing`` rather than SipHash: a fold sums every cell of every row.
    struct Cell: Hashable {
        var series: Int64
        var bucketStartMs: Int64

        func _rawHashValue(seed: Int) -> Int { HashMixing.mix(Int(series), Int(bucketStartMs), seed: seed) }
    }

    /// `client` indexes ``clientNames``.
    struct ClientCell: Hashable {
        var series: Int64
        var client: Int32
        var bucketStartMs: Int64

        func _rawHashValue(seed: Int) -> Int {
            HashMixing.mix(Int(series) &* 31 &+ Int(client), Int(bucketStartMs), seed: seed)
        }
    }

    /// A series' database id as a key that hashes with ``HashMixing``: a fold finds a series' totals once per cell,
    /// and SipHash of an `Int64` key was most of that lookup.
    struct SeriesID: Hashable {
        var value: Int64
        init(_ value: Int64) { self.value = value }

        func _rawHashValue(seed: Int) -> Int { HashMixing.mix(Int(value), 0, seed: seed) }
    }

    /// A series' counts over all its cells, and when it was last seen.
    struct SeriesTotals {
        var counts = OutcomeCounts.zero
        var lastSeenMs = Int64.min

        mutating func add(_ more: OutcomeCounts, seenMs: Int64) {
            counts += more
            lastSeenMs = max(lastSeenMs, seenMs)
        }
    }

    private(set) var cells = FoldTable<Cell>()
    private(set) var clientCells = FoldTable<ClientCell>()
    private(set) var series: [SeriesID: SeriesTotals] = [:]
    private(set) var delays: [SeriesID: RetryDelayHistogram] = [:]
    /// The client names of ``clientCells``: a name is hashed once per row, not once per cell.
    private(set) var clientNames: [String] = []
    private var clientIndexes: [String: Int32] = [:]

    /// The index of a client name in ``clientNames``, added when new.
    mutating func clientIndex(_ name: String) -> Int32 {
        if let index = clientIndexes[name] { return index }
        let index = Int32(clientNames.count)
        clientNames.append(name)
        clientIndexes[name] = index
        return index
    }

    var isEmpty: Bool { series.isEmpty && clientCells.isEmpty && delays.isEmpty }
    var cellCount: Int { cells.count + clientCells.count }

    /// Adds a row's (series, bucket) cells, and their counts to their series' totals.
    mutating func add(_ rowCells: [(key: Cell, counts: OutcomeCounts)], seenMs: Int64) {
        cells.add(rowCells)
        for cell in rowCells {
            series[SeriesID(cell.key.series), default: SeriesTotals()].add(cell.counts, seenMs: seenMs)
        }
    }

    /// Adds a row's (series, client, bucket) cells.
    mutating func add(_ rowCells: [(key: ClientCell, counts: OutcomeCounts)]) {
        clientCells.add(rowCells)
    }

    mutating func add(series id: Int64, delays histogram: RetryDelayHistogram) {
        delays[SeriesID(id), default: RetryDelayHistogram()].merge(histogram)
    }

    /// Adds everything to the tables. Cells of a series that no longer exists (pruned meanwhile) are dropped: the
    /// series' data went with it.
    func write(in db: Database) throws {
        guard !isEmpty else { return }
        let updateSeries = try BoundStatement(
            db,
            sql: """
                UPDATE series SET last_seen_ms = max(last_seen_ms, ?2),
                    miss = miss + ?3, hit = hit + ?4, in_flight = in_flight + ?5, completed = completed + ?6,
                    mismatch = mismatch + ?7, double_executions = double_executions + ?8,
                    late_retries = late_retries + ?9, narrow_keys = narrow_keys + ?10
                WHERE id = ?1
                """)
        var present: Set<SeriesID> = []
        for (id, totals) in series {
            updateSeries.bind(id.value, at: 1)
            updateSeries.bind(totals.lastSeenMs, at: 2)
            bind(totals.counts, fields: 8, to: updateSeries, from: 3)
            try updateSeries.run()
            if db.changesCount > 0 { present.insert(id) }
        }
        let upsertBucket = try BoundStatement(
            db,
            sql: """
                INSERT INTO buckets(series_id, start_ms, \(DedupStore.countColumns))
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(series_id, start_ms) DO UPDATE SET
                    miss = miss + excluded.miss, hit = hit + excluded.hit, in_flight = in_flight + excluded.in_flight,
                    completed = completed + excluded.completed, mismatch = mismatch + excluded.mismatch,
                    double_executions = double_executions + excluded.double_executions,
                    late_retries = late_retries + excluded.late_retries, narrow_keys = narrow_keys + excluded.narrow_keys
                """)
        for entry in cells.entries where present.contains(SeriesID(entry.key.series)) {
            upsertBucket.bind(entry.key.series, at: 1)
            upsertBucket.bind(entry.key.bucketStartMs, at: 2)
            bind(entry.counts, fields: 8, to: upsertBucket, from: 3)
            try upsertBucket.run()
        }
        if !clientCells.isEmpty {
            let upsertClient = try BoundStatement(
                db,
                sql: """
                    INSERT INTO client_buckets(series_id, client, start_ms, miss, hit, in_flight, completed, mismatch)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(series_id, client, start_ms) DO UPDATE SET
                        miss = miss + excluded.miss, hit = hit + excluded.hit, in_flight = in_flight + excluded.in_flight,
                        completed = completed + excluded.completed, mismatch = mismatch + excluded.mismatch
                    """)
            for entry in clientCells.entries where present.contains(SeriesID(entry.key.series)) {
                upsertClient.bind(entry.key.series, at: 1)
                upsertClient.bind(clientNames[Int(entry.key.client)], at: 2)
                upsertClient.bind(entry.key.bucketStartMs, at: 3)
                bind(entry.counts, fields: 5, to: upsertClient, from: 4)
                try upsertClient.run()
            }
        }
        if !delays.isEmpty {
            let read = try db.cachedStatement(sql: "SELECT sum, buckets FROM retry_delays WHERE series_id = ?")
            let upsert = try db.cachedStatement(
                sql: "INSERT OR REPLACE INTO retry_delays(series_id, sum, buckets) VALUES (?, ?, ?)")
            for (id, added) in delays where present.contains(id) {
                var histogram = added
                if let row = try Row.fetchOne(read, arguments: [id.value]),
                    let stored = RetryDelayHistogram(counts: DedupStore.decodeCounts(row[1]), sum: row[0])
                {
                    histogram.merge(stored)
                }
                try upsert.execute(arguments: [id.value, histogram.sum, DedupStore.encodeCounts(histogram.counts)])
            }
        }
    }

    private func bind(_ counts: OutcomeCounts, fields: Int, to statement: BoundStatement, from first: Int32) {
        let values = [
            counts.miss, counts.hit, counts.inFlight, counts.completed, counts.mismatch, counts.doubleExecutions,
            counts.lateRetries, counts.narrowKeys,
        ]
        for offset in 0..<fields { statement.bind(values[offset], at: first + Int32(offset)) }
    }
}
