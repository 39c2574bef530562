import DedupVitalsCore

/// The JSON document of `GET /v1/summary`.
struct SummaryDocument: Encodable {
    struct Counts: Encodable {
        var attempts: Int64
        var miss: Int64
        var hit: Int64
        var inFlight: Int64
        var completed: Int64
        var mismatch: Int64
        var duplicates: Int64
        var duplicateRatio: Double

        init(_ counts: OutcomeCounts) {
            attempts = counts.attempts
            miss = counts.miss
            hit = counts.hit
            inFlight = counts.inFlight
            completed = counts.completed
            mismatch = counts.mismatch
            duplicates = counts.duplicates
            duplicateRatio = counts.duplicateRatio
        }

        enum CodingKeys: String, CodingKey {
            case attempts, miss, hit, inFlight = "in_flight", completed, mismatch, duplicates
            case duplicateRatio = "duplicate_ratio"
        }
    }

    struct Series: Encodable {
        var service: String
        var operation: String
        var lastSeen: String
        var totals: Counts
        var windows: [String: Counts]

        enum CodingKeys: String, CodingKey {
            case service, operation, lastSeen = "last_seen", totals, windows
        }
    }

    var generatedAt: String
    var windows: [String]
    /// Every series added up, per window.
    var overall: [String: Counts]
    var series: [Series]

    enum CodingKeys: String, CodingKey {
        case generatedAt = "generated_at", windows, overall, series
    }

    init(snapshot: [RollingWindows.SeriesWindows], windows: [PromDuration], nowMs: Int64) {
        let labels = windows.map(ServiceConfig.windowLabel)
        generatedAt = RFC3339.format(milliseconds: nowMs)
        self.windows = labels
        var overallCounts = [OutcomeCounts](repeating: .zero, count: windows.count)
        series = snapshot.map { item in
            for index in windows.indices { overallCounts[index] += item.windows[index] }
            return Series(
                service: item.series.service, operation: item.series.operation,
                lastSeen: RFC3339.format(milliseconds: item.lastSeenMs), totals: Counts(item.totals),
                windows: Dictionary(uniqueKeysWithValues: zip(labels, item.windows.map(Counts.init))))
        }
        overall = Dictionary(uniqueKeysWithValues: zip(labels, overallCounts.map(Counts.init)))
    }
}
