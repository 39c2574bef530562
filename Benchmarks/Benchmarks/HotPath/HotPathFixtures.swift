import DedupVitalsCore
import DedupVitalsServer

/// Inputs of the hot-path benchmarks, built once.
enum HotPathFixtures {
    /// A fixed receive time; event timestamps are relative to it.
    static let nowMs: Int64 = 1_790_000_000_000
    static let windows: [PromDuration] = [.minutes(1), .minutes(5), .minutes(15), .hours(1)]
    static let outcomes = ["miss", "completed", "hit", "miss", "completed", "in_flight", "miss", "mismatch"]

    /// A 500-event body: every field present (key, payload, client, RFC 3339 `ts`, `age_ms`), over 100 series.
    static func eventBody(count: Int = 500, ndjson: Bool = false) -> [UInt8] {
        var lines: [String] = []
        for index in 0..<count {
            let ts = RFC3339.format(milliseconds: nowMs - Int64(index) * 37)
            lines.append(
                #"{"service":"payments","operation":"op\#(index % 100)","outcome":"\#(outcomes[index % outcomes.count])","#
                    + #""key":"order-\#(index)-7f3a9c","payload":"sha256:\#(index)","client":"checkout","#
                    + #""ts":"\#(ts)","age_ms":\#(index * 13)}"#)
        }
        return Array((ndjson ? lines.joined(separator: "\n") : "[" + lines.joined(separator: ",") + "]").utf8)
    }

    static func events(count: Int = 500) -> [Event] {
        (try? EventDecoder().decode(eventBody(count: count), format: .json, nowMs: nowMs)) ?? []
    }

    /// `seriesCount` series (operations `op0`…), each with `bucketsPerSeries` consecutive 10 s buckets up to now.
    static func windows(seriesCount: Int, bucketsPerSeries: Int) -> RollingWindows {
        var windows = RollingWindows()
        let newest = BucketClock.start(of: nowMs, widthMs: BucketClock.defaultWidthMs)
        for index in 0..<seriesCount {
            let buckets = (0..<bucketsPerSeries).reversed().map { age in
                SeriesBuckets.Bucket(
                    startMs: newest - Int64(age) * BucketClock.defaultWidthMs,
                    counts: OutcomeCounts(miss: 10, hit: 2, inFlight: 1, completed: 9, mismatch: Int64(index % 2)))
            }
            windows.restore(
                SeriesKey(service: "service\(index / 100)", operation: "op\(index % 100)"),
                totals: OutcomeCounts(miss: 1000, hit: 200, inFlight: 10, completed: 990, mismatch: 1),
                lastSeenMs: nowMs, buckets: buckets)
        }
        return windows
    }

    /// A commit group's caller cells as at 1,000 series and 7 callers: 4,000 events (eight batches of 500) in one
    /// bucket, each of a random (series, caller) pair (a fixed seed), merged as the writer merges them.
    static func clientCells(series: Int = 1_000, callers: Int = 7, events: Int = 4_000) -> BatchDelta.ClientCells {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var cells: BatchDelta.ClientCells = [:]
        let bucket = BucketClock.start(of: nowMs, widthMs: BucketClock.defaultWidthMs)
        for _ in 0..<events {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let pair = Int((state >> 33) % UInt64(series * callers))
            let cell = BatchDelta.ClientCell(
                series: SeriesKey(service: "load", operation: "op\(pair / callers)"), client: "caller-\(pair % callers)",
                bucketStartMs: bucket)
            cells[cell, default: .zero].miss += 1
        }
        return cells
    }

    /// Caller attribution holding every (series, caller) pair of ``clientCells(series:callers:events:)``.
    static func clients(series: Int = 1_000, callers: Int = 7) -> ClientAttribution {
        var clients = ClientAttribution(maxClientsPerSeries: 50)
        var all: BatchDelta.ClientCells = [:]
        let bucket = BucketClock.start(of: nowMs, widthMs: BucketClock.defaultWidthMs)
        for pair in 0..<(series * callers) {
            let cell = BatchDelta.ClientCell(
                series: SeriesKey(service: "load", operation: "op\(pair / callers)"), client: "caller-\(pair % callers)",
                bucketStartMs: bucket)
            all[cell] = OutcomeCounts(miss: 1)
        }
        clients.apply(all, receivedAtMs: nowMs)
        return clients
    }

    /// Ingest counters as a running service has them.
    static func counters() -> IngestCounters {
        let counters = IngestCounters()
        counters.record(code: 202, events: 500, result: .accepted)
        counters.record(code: 400, events: 1, result: .rejected)
        return counters
    }
}
