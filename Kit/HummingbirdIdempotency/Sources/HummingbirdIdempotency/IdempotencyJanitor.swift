import Foundation
import Logging
import ServiceLifecycle

/// Deletes expired idempotency records now and then, as a swift-service-lifecycle `Service` next to the app. Expired
/// records are already ignored by `begin`; this only gives their space back.
public struct IdempotencyJanitor: Service {
    let store: any IdempotencyStore
    let interval: Duration
    let logger: Logger

    public init(store: any IdempotencyStore, interval: Duration = .seconds(60), logger: Logger = Logger(label: "idempotency.janitor")) {
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let removed = try await store.removeExpired(nowMs: Int64(Date().timeIntervalSince1970 * 1000))
                if removed > 0 { logger.debug("expired idempotency records removed", metadata: ["count": "\(removed)"]) }
            } catch {
                logger.error("idempotency store cleanup failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
