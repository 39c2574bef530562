import Foundation
import Synchronization

/// The outcome of the last configuration (re)load: `dedup_config_last_reload_successful` and
/// `dedup_config_last_reload_success_timestamp_seconds`, as Prometheus exports them. The start-up load counts as
/// the first successful one.
final class ReloadStatus: Sendable {
    struct Snapshot: Sendable, Equatable {
        var successful: Bool
        /// Seconds since the epoch of the last successful load.
        var lastSuccessSeconds: Double
    }

    private let state: Mutex<Snapshot>

    init(loadedAtSeconds: Double = Date().timeIntervalSince1970) {
        state = Mutex(Snapshot(successful: true, lastSuccessSeconds: loadedAtSeconds.rounded(.down)))
    }

    func recordSuccess(atSeconds: Double = Date().timeIntervalSince1970) {
        state.withLock { $0 = Snapshot(successful: true, lastSuccessSeconds: atSeconds.rounded(.down)) }
    }

    func recordFailure() { state.withLock { $0.successful = false } }

    var snapshot: Snapshot { state.withLock { $0 } }
}
