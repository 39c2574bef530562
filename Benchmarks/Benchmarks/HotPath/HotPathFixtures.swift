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

    /// Ingest counters as a running service has them.
    static func counters() -> IngestCounters {
        let counters = IngestCounters()
        counters.record(code: 202, events: 500, result: .accepted)
        counters.record(code: 400, events: 1, result: .rejected)
        return counters
    }
}
