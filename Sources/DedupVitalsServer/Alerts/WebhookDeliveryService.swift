import AsyncHTTPClient
import DedupVitalsStorage
import Logging
import NIOCore
import ServiceLifecycle

/// Runs the webhook delivery worker until graceful shutdown: polls the outbox for due messages, sends them, and
/// prunes finished messages after a week.
struct WebhookDeliveryService: Service {
    let deliverer: WebhookDeliverer
    let pollInterval: Duration
    let logger: Logger
    static let keepFinishedMs: Int64 = 7 * 86_400_000

    func run() async throws {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5), read: .seconds(10)))
        configuration.httpVersion = .http1Only
        let client = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration, backgroundActivityLogger: logger)
        deliverer.refreshQueueDepth()
        await cancelWhenGracefulShutdown {
            var lastPrune: Int64 = 0
            while !Task.isCancelled {
                await deliverer.deliverDue(client: client)
                let now = deliverer.clock()
                if now - lastPrune > 3_600_000 {
                    do {
                        try deliverer.store.pruneOutbox(beforeMs: now - Self.keepFinishedMs)
                    } catch {
                        deliverer.errors.record(
                            .outboxPrune, "finished webhook messages not pruned; will retry", error: error, logger: logger)
                    }
                    lastPrune = now
                }
                try? await Task.sleep(for: pollInterval)
            }
        }
        do {
            try await client.shutdown()
        } catch {
            logger.warning("webhook HTTP client did not shut down cleanly", metadata: ["error": "\(error)"])
        }
    }
}
