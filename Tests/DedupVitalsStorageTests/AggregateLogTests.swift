import DedupVitalsCore
import Foundation
import GRDB
import Testing

@testable import DedupVitalsStorage

/// Aggregates on disk: each commit group appended as one `aggregate_log` row, folded into the tables later, and what
/// a restart rebuilds from rows that were never folded.
@Suite struct AggregateLogTests {
    static let t0 = KeyLogTests.t0

    /// `count` events over `series` operations and three clients, a tenth of them hits with a retry delay, a fifth
    /// completions; bucket times spread over three buckets. With `series` prime to 10, every series has misses.
    static func events(_ count: Int, series: Int, from first: Int = 0) -> [Event] {
        (first..<first + count).map { (n: Int) -> Event in
            let retry = n % 10 == 4
            let outcome: Outcome = retry ? .hit : n % 5 == 1 ? .completed : .miss
            let timeMs: Int64 = t0 + Int64(n % 3) * BucketClock.defaultWidthMs
            let ageMs: Int64? = retry ? Int64(250 + n % 7_000) : nil
            return Event(
                service: "payments", operation: "op\(n % series)", outcome: outcome, key: "key-\(n)", client: "client-\(n % 3)",
                timeMs: timeMs, ageMs: ageMs)
        }
    }

    static func commit(_ harness: KeyLogHarness, _ events: [Event]) async throws {
        let delta = BatchDelta(
            events: events, receivedAtMs: t0, bucketWidthMs: BucketClock.defaultWidthMs, hasher: harness.hasher)
        try await harness.committer.commit(.init(delta: delta))
    }

    static func load(_ path: String) throws -> DedupStore.LoadedState {
        let store = try DedupStore(path: path)
        defer { try? store.close() }
        return try store.load(
            bucketWidthMs: BucketClock.defaultWidthMs, forensics: KeyLogTests.settings, maxClientsPerSeries: 10, nowMs: t0)
    }

    static func rows(_ path: String, _ sql: String) throws -> Int {
        try DatabaseQueue(path: path).read { try Int.fetchOne($0, sql: sql) ?? -1 }
    }

    /// What `events` add up to: totals per series, counts per client, and the retry delays per series.
    struct Expected {
        var totals: [SeriesKey: OutcomeCounts] = [:]
        var clients: [String: Int64] = [:]
        var delays: [SeriesKey: Int64] = [:]

        init(_ events: [Event]) {
            for event in events {
                totals[event.series, default: .zero][event.outcome] += 1
                clients[event.client!, default: 0] += 1
                if event.ageMs != nil { delays[event.series, default: 0] += 1 }
            }
        }
    }

    static func expectLoaded(
        _ loaded: DedupStore.LoadedState, _ expected: Expected, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let windows = loaded.windows
        for (series, totals) in expected.totals {
            #expect(windows.state(of: series)?.totals == totals, sourceLocation: sourceLocation)
            let hour = windows.windowCounts(of: series, windows: [.hours(1)], nowMs: t0 + 60_000)?.first
            #expect(hour == totals, sourceLocation: sourceLocation)
        }
        var clients: [String: Int64] = [:]
        for series in expected.totals.keys {
            for ranked in loaded.clients.top(of: series, fromMs: t0 - 60_000, limit: 100) {
                clients[ranked.client, default: 0] += ranked.counts.total
            }
        }
        #expect(clients == expected.clients, sourceLocation: sourceLocation)
        let histograms = loaded.forensics.retryDelays
        for (series, count) in expected.delays {
            #expect(histograms[series]?.count == count, sourceLocation: sourceLocation)
        }
    }

    @Test func aGroupIsOneRowUntilFoldedAndARestartReplaysUnfoldedRows() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("db.sqlite")
        let harness = try KeyLogHarness(path: path)
        var sent: [Event] = []
        for group in 0..<12 {
            let events = Self.events(250, series: 41, from: group * 250)
            try await Self.commit(harness, events)
            sent += events
        }
        await harness.close()
        // Committed: one row per group, nothing summed into the tables yet but each series' row.
        #expect(try Self.rows(path, "SELECT count(*) FROM aggregate_log") == 12)
        #expect(try Self.rows(path, "SELECT count(*) FROM buckets") == 0)
        #expect(try Self.rows(path, "SELECT count(*) FROM series") == 41)
        #expect(try Self.rows(path, "SELECT coalesce(sum(miss), 0) FROM series") == 0)
        // A start folds the rows first, then loads everything that was acknowledged.
        Self.expectLoaded(try Self.load(path), Expected(sent))
        #expect(try Self.rows(path, "SELECT count(*) FROM aggregate_log") == 0)
        #expect(try Self.rows(path, "SELECT count(*) FROM buckets") == 41 * 3)
        #expect(try Self.rows(path, "SELECT count(*) FROM client_buckets") == 41 * 3)
        // Loading again (nothing left to fold) gives the same.
        Self.expectLoaded(try Self.load(path), Expected(sent))
    }

    @Test func foldsBetweenGroupsAddUpToTheSameAsOneFold() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("db.sqlite")
        let harness = try KeyLogHarness(path: path)
        var sent: [Event] = []
        var folded = 0
        for group in 0..<10 {
            let events = Self.events(300, series: 23, from: group * 300)
            try await Self.commit(harness, events)
            sent += events
            if group % 3 == 2 {
                let result = try harness.store.foldAggregates()
                #expect(result.rows == 3 && result.malformedRows == 0)
                folded += result.rows
            }
        }
        #expect(folded == 9)
        #expect(try harness.store.foldAggregates().rows == 1)
        #expect(try harness.store.foldAggregates() == .init(rows: 0, cells: 0, malformedRows: 0))
        await harness.close()
        Self.expectLoaded(try Self.load(path), Expected(sent))
    }

    /// Pruning folds inside its transaction first: a series' last-seen time and totals are current before series
    /// idle past the retention are deleted, and no row is left to fold for a series that is gone.
    @Test func pruningFoldsFirstThenDropsIdleSeries() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("db.sqlite")
        let harness = try KeyLogHarness(path: path)
        try await Self.commit(harness, Self.events(100, series: 7))
        #expect(try Self.rows(path, "SELECT count(*) FROM aggregate_log") == 1)
        // Within the retention: folded, and every series kept with its totals.
        try harness.store.prune(
            nowMs: Self.t0 + 60_000, retentionMs: 3_600_000, idempotencyTTLMs: 86_400_000,
            bucketWidthMs: BucketClock.defaultWidthMs)
        #expect(try Self.rows(path, "SELECT count(*) FROM aggregate_log") == 0)
        #expect(try Self.rows(path, "SELECT sum(miss + hit + in_flight + completed + mismatch) FROM series") == 100)
        // Past it: the series and their buckets go; a later group of one of them makes it anew.
        try await Self.commit(harness, Self.events(10, series: 7))
        try harness.store.prune(
            nowMs: Self.t0 + 7_200_000, retentionMs: 3_600_000, idempotencyTTLMs: 86_400_000,
            bucketWidthMs: BucketClock.defaultWidthMs)
        #expect(try Self.rows(path, "SELECT count(*) FROM aggregate_log") == 0)
        #expect(try Self.rows(path, "SELECT count(*) FROM series") == 0)
        #expect(try Self.rows(path, "SELECT count(*) FROM buckets") == 0)
        try await Self.commit(harness, Self.events(10, series: 1))
        #expect(try harness.store.foldAggregates().rows == 1)
        #expect(try Self.rows(path, "SELECT sum(miss + hit + in_flight + completed + mismatch) FROM series") == 10)
        await harness.close()
    }

    @Test func aMalformedRowIsReportedAndDroppedAndTheOthersAreFolded() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("db.sqlite")
        let harness = try KeyLogHarness(path: path)
        let first = Self.events(100, series: 7)
        try await Self.commit(harness, first)
        let delta = BatchDelta(
            events: Self.events(100, series: 7), receivedAtMs: Self.t0, bucketWidthMs: BucketClock.defaultWidthMs)
        var row = AggregateLog.encode(
            delta, cellSeriesIDs: Array(repeating: 1, count: delta.cells.count), delays: [], seriesID: { _ in 1 })
        row.removeLast(3)
        let cut = row
        try await DatabaseQueue(path: path).write { db in
            try db.execute(sql: "INSERT INTO aggregate_log(body) VALUES (?)", arguments: [Data(cut)])
        }
        let second = Self.events(100, series: 7, from: 100)
        try await Self.commit(harness, second)
        #expect(try harness.store.foldAggregates() == .init(rows: 3, cells: 7 * 3 + 7 * 3, malformedRows: 1))
        await harness.close()
        Self.expectLoaded(try Self.load(path), Expected(first + second))
    }

    @Test func aRowDecodesToWhatWasEncoded() throws {
        let events = Self.events(500, series: 7)
        let delta = BatchDelta(events: events, receivedAtMs: Self.t0, bucketWidthMs: BucketClock.defaultWidthMs)
        var delays: [SeriesKey: RetryDelayHistogram] = [:]
        for event in events where event.ageMs != nil {
            delays[event.series, default: RetryDelayHistogram()].observe(seconds: Double(event.ageMs!) / 1000)
        }
        let ids = Dictionary(uniqueKeysWithValues: delta.series.enumerated().map { ($1, Int64($0 + 1)) })
        let entries = delays.enumerated().map {
            KeyForensics.SeriesDelays(series: $1.key, seriesIndex: UInt32($0), histogram: $1.value)
        }
        let row = AggregateLog.encode(
            delta, cellSeriesIDs: delta.cells.keys.map { ids[$0.series]! }, delays: entries, seriesID: { ids[$0]! })
        var fold = AggregateFold()
        #expect(row.withUnsafeBytes { AggregateLog.decode($0, into: &fold) })
        #expect(fold.cells.count == delta.cells.count && fold.clientCells.count == delta.clientCells.count)
        for (cell, counts) in delta.cells {
            #expect(fold.cells[.init(series: ids[cell.series]!, bucketStartMs: cell.bucketStartMs)] == counts)
        }
        for (cell, counts) in delta.clientCells {
            #expect(
                fold.clientCells[
                    .init(
                        series: ids[cell.series]!, client: Int32(fold.clientNames.firstIndex(of: cell.client)!),
                        bucketStartMs: cell.bucketStartMs)]
                    == counts)
        }
        for (series, histogram) in delays {
            #expect(fold.delays[.init(ids[series]!)]?.counts == histogram.counts)
            #expect(fold.delays[.init(ids[series]!)]?.sum == histogram.sum)
        }
        // Every shorter prefix is malformed and adds nothing.
        for length in stride(from: 0, to: row.count, by: 97) {
            var partial = AggregateFold()
            #expect(!Array(row.prefix(length)).withUnsafeBytes { AggregateLog.decode($0, into: &partial) })
            #expect(partial.isEmpty)
        }
    }
}
