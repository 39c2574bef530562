import DedupVitalsCore
import Logging
import ServiceLifecycle

/// Runs the alert rules every `evaluation_interval` (read after each evaluation: a reload changes it) until
/// graceful shutdown.
struct AlertEvaluatorService: Service {
    let evaluator: AlertEvaluator
    let live: LiveConfiguration
    let clock: @Sendable () -> Int64
    let metrics: RuleEvaluationMetrics
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let started = ContinuousClock.now
                do {
                    try evaluator.evaluate(nowMs: clock())
                    metrics.record(seconds: (ContinuousClock.now - started).inSeconds, failed: false)
                } catch {
                    metrics.record(seconds: (ContinuousClock.now - started).inSeconds, failed: true)
                    logger.warning("alert evaluation failed; will retry", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: .milliseconds(live.config.evaluationInterval.milliseconds))
            }
        }
    }
}
