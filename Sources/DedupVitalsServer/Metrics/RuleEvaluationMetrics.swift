import DedupVitalsCore
import Synchronization

/// How the alert rules' evaluations go: `dedup_rule_evaluation_duration_seconds`, `dedup_rule_evaluations_total`
/// and `dedup_rule_evaluation_failures_total` (as Prometheus' `prometheus_rule_evaluation_*`).
final class RuleEvaluationMetrics: Sendable {
    let duration = SharedHistogram(bounds: BucketHistogram.fastSecondsBounds)
    private let evaluations = Atomic<Int64>(0)
    private let failures = Atomic<Int64>(0)

    func record(seconds: Double, failed: Bool) {
        duration.observe(seconds)
        evaluations.add(1, ordering: .relaxed)
        if failed { failures.add(1, ordering: .relaxed) }
    }

    var evaluationCount: Int64 { evaluations.load(ordering: .relaxed) }
    var failureCount: Int64 { failures.load(ordering: .relaxed) }
}
