import Synchronization

/// A settable clock for tests: pass `read` as the service's clock, move time with `advance(by:)`.
public final class TestClock: Sendable {
    private let value: Mutex<Int64>

    public init(_ start: Int64) { value = Mutex(start) }

    /// The clock as the service takes it: milliseconds since the epoch.
    public var read: @Sendable () -> Int64 { { self.value.withLock { $0 } } }

    public func advance(by ms: Int64) { value.withLock { $0 += ms } }
}
