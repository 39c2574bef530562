import DedupVitalsCore
import DedupVitalsStorage

/// A snapshot of what the service measures about itself, taken at scrape time and written by
/// ``SelfMetricsSection``: a value, so that the golden tests render a fixed one.
struct SelfMetrics: Sendable {
    var httpRequests: [HTTPRequestMetrics.Key: BucketHistogram] = [:]
    var commits = CommitStatistics.Snapshot()
    var databaseBytes: Int64 = 0
    var walBytes: Int64 = 0
    var ruleEvaluationDuration = BucketHistogram(bounds: BucketHistogram.fastSecondsBounds)
    var ruleEvaluations: Int64 = 0
    var ruleEvaluationFailures: Int64 = 0
    var reload = ReloadStatus.Snapshot(successful: true, lastSuccessSeconds: 0)
    /// nil where `/proc` is not available: the `process_*` families then have no samples.
    var process: ProcessMetrics?
}
