import DedupVitalsCore
import NIOSSL
import Synchronization

/// The configuration in force while the service runs. Every part that can change on reload reads it here when it
/// needs it (per request, per evaluation, per delivery) instead of keeping a copy, so that a reload takes effect
/// at once and as a whole.
public final class LiveConfiguration: Sendable {
    private let running: Mutex<RunningConfiguration>

    init(_ initial: RunningConfiguration) {
        running = Mutex(initial)
    }

    var current: RunningConfiguration { running.withLock { $0 } }
    var config: ServiceConfig { running.withLock { $0.config } }
    var limits: ServiceConfig.Limits { running.withLock { $0.config.limits } }
    var windows: [PromDuration] { running.withLock { $0.config.windows } }
    var credentials: Credentials { running.withLock { $0.effectiveCredentials } }
    var tlsContext: NIOSSLContext? { running.withLock { $0.tlsContext } }

    func replace(with new: RunningConfiguration) {
        running.withLock { $0 = new }
    }
}
