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
            case attempts, miss, hit
            case inFlight = "in_flight"
            case completed, mismatch, duplicates
            case duplicateRatio = "duplicate_ratio"
        }
    }

    struct Series: Encodable {
        var service: String
        var operation: String
        var lastSeen: String
        var totals: Counts
        var windows: [String: Counts]
        var inFlightKeys = 0
        var staleInFlightKeys = 0
        var doubleExecutions: Int64
        var lateRetries: Int64
        var suspectedNarrowKeys: Int64
        var retryDelay = RetryDelay()
        var topClients: [Client] = []

        enum CodingKeys: String, CodingKey {
            case service, operation
            case lastSeen = "last_seen"
            case totals, windows
            case inFlightKeys = "in_flight_keys"
            case staleInFlightKeys = "stale_in_flight_keys"
            case doubleExecutions = "double_executions"
            case lateRetries = "late_retries"
            case suspectedNarrowKeys = "suspected_narrow_keys"
            case retryDelay = "retry_delay"
            case topClients = "top_clients"
        }
    }

    /// Retry-delay quantiles, shown next to the dedup window they should stay inside.
    struct RetryDelay: Encodable {
        var count: Int64 = 0
        var p50Seconds: Double?
        var p99Seconds: Double?
        var dedupWindowSeconds: Double = 0

        enum CodingKeys: String, CodingKey {
            case count
            case p50Seconds = "p50_seconds"
            case p99Seconds = "p99_seconds"
            case dedupWindowSeconds = "dedup_window_seconds"
        }
    }

    /// One caller ranked by duplicate ratio over the largest window.
    struct Client: Encodable {
        var client: String
        var attempts: Int64
        var duplicates: Int64
        var duplicateRatio: Double

        enum CodingKeys: String, CodingKey {
            case client, attempts, duplicates
            case duplicateRatio = "duplicate_ratio"
        }
    }

    var generatedAt: String
    var windows: [String]
    /// Every series added up, per window.
    var overall: [String: Counts]
    var series: [Series]
    /// The alert instances now firing.
    var alerts: [AlertDocument] = []

    enum CodingKeys: String, CodingKey {
        case generatedAt = "generated_at"
        case windows, overall, series, alerts
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
                windows: Dictionary(uniqueKeysWithValues: zip(labels, item.windows.map(Counts.init))),
                doubleExecutions: item.totals.doubleExecutions, lateRetries: item.totals.lateRetries,
                suspectedNarrowKeys: item.totals.narrowKeys)
        }
        overall = Dictionary(uniqueKeysWithValues: zip(labels, overallCounts.map(Counts.init)))
    }

    /// Adds key forensics and caller attribution to every series; `snapshot` is the one the document was made from
    /// (its series in the same order), so that key forensics answers for them in one pass (``KeyForensics/figures(of:)``).
    mutating func addForensics(snapshot: [RollingWindows.SeriesWindows], state: LiveState, config: ServiceConfig, nowMs: Int64) {
        let figures = state.withForensics { $0.figures(of: snapshot) }
        let stale = state.staleInFlightKeys(nowMs: nowMs)
        let largest = config.windows.max() ?? .hours(1)
        let lowerBound = state.withWindows { $0.lowerBound(windowMs: largest.milliseconds, nowMs: nowMs) }
        for index in series.indices {
            let key = snapshot[index].series
            series[index].inFlightKeys = figures.inFlightKeys[index]
            series[index].staleInFlightKeys = stale[key] ?? 0
            let histogram = figures.retryDelays[index] ?? RetryDelayHistogram()
            series[index].retryDelay = RetryDelay(
                count: histogram.count, p50Seconds: histogram.quantile(0.5), p99Seconds: histogram.quantile(0.99),
                dedupWindowSeconds: config.dedupWindow.seconds)
            series[index].topClients = state.withClients { $0.top(of: key, fromMs: lowerBound, limit: 5) }.map {
                Client(
                    client: $0.client, attempts: $0.counts.attempts, duplicates: $0.counts.duplicates,
                    duplicateRatio: $0.counts.duplicateRatio)
            }
        }
    }
}
