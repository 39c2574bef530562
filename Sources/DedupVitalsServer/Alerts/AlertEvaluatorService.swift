import Logging
import ServiceLifecycle

/// Runs the alert rules every `evaluation_interval` until graceful shutdown.
struct AlertEvaluatorService: Service {
    let evaluator: AlertEvaluator
    let interval: Duration
    let clock: @Sendable () -> Int64
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try evaluator.evaluate(nowMs: clock())
                } catch {
                    logger.warning("alert evaluation failed; will retry", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
