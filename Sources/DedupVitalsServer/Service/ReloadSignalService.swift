import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads the configuration on SIGHUP, as Prometheus does, until graceful shutdown. Trapping the signal also means
/// that it no longer ends the process (its default action).
struct ReloadSignalService: Service {
    let reload: @Sendable () -> Void

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in signals { reload() }
        }
    }
}
