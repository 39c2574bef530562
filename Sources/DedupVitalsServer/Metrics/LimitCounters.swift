import Synchronization

/// Process-lifetime counters of refusals by the limits (`dedup_series_limit_rejections_total`,
/// `dedup_rate_limit_rejections_total`, `dedup_ingest_overload_rejections_total`).
public final class LimitCounters: Sendable {
    private struct Counts {
        var seriesLimit: Int64 = 0
        var rateLimit: Int64 = 0
        var overload: Int64 = 0
    }

    private let counts = Mutex(Counts())

    public init() {}

    func recordSeriesLimitRejection() { counts.withLock { $0.seriesLimit += 1 } }
    func recordRateLimitRejection() { counts.withLock { $0.rateLimit += 1 } }
    func recordOverloadRejection() { counts.withLock { $0.overload += 1 } }

    /// Writes the three counter families.
    func write(to writer: inout some MetricsSink) {
        let counts = counts.withLock { $0 }
        for (family, count) in [
            (MetricsCatalog.seriesLimitRejections, counts.seriesLimit), (MetricsCatalog.rateLimitRejections, counts.rateLimit),
            (MetricsCatalog.overloadRejections, counts.overload),
        ] {
            writer.family(family)
            writer.sample(family, count)
        }
    }
}
