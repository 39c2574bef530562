import Synchronization

/// A ``BucketHistogram`` that many threads observe into: one short lock section per observation (a bucket search
/// and three additions), or one for many observations with ``observe(_:)-(some Sequence)``.
public final class SharedHistogram: Sendable {
    private let state: Mutex<BucketHistogram>

    public init(bounds: [Double]) {
        state = Mutex(BucketHistogram(bounds: bounds))
    }

    public func observe(_ value: Double) {
        state.withLock { $0.observe(value) }
    }

    public func observe(_ values: some Sequence<Double>) {
        state.withLock { histogram in for value in values { histogram.observe(value) } }
    }

    public var snapshot: BucketHistogram { state.withLock { $0 } }
}
