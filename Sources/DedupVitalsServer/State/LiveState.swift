import DedupVitalsCore
import Synchronization

/// The in-memory state the read endpoints serve from: rolling windows (applied after each commit) and process counters.
public final class LiveState: Sendable {
    private let windows: Mutex<RollingWindows>
    public let counters = IngestCounters()

    public init(windows: RollingWindows) {
        self.windows = Mutex(windows)
    }

    /// Applies a committed delta.
    public func apply(_ delta: BatchDelta) {
        windows.withLock { $0.apply(delta) }
    }

    /// Reads the windows under the lock; keep `body` short.
    public func withWindows<T>(_ body: (borrowing RollingWindows) throws -> T) rethrows -> T {
        try windows.withLock { try body($0) }
    }

    /// Drops expired buckets and series.
    public func prune(nowMs: Int64, retentionMs: Int64) {
        windows.withLock { _ = $0.prune(nowMs: nowMs, retentionMs: retentionMs) }
    }
}
