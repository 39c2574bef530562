/// A Prometheus histogram's state: non-cumulative counts per upper bound (plus one above the largest), the sum and
/// the count of the observations. A value type: the service keeps it under its own lock (``SharedHistogram``) and
/// renders a copy.
public struct BucketHistogram: Sendable, Equatable {
    /// Upper bounds, ascending; a final +Inf bucket follows.
    public let bounds: [Double]
    /// Non-cumulative counts per bucket; the last one is above the largest bound.
    public private(set) var counts: [Int64]
    public private(set) var sum: Double = 0
    public private(set) var count: Int64 = 0

    public init(bounds: [Double]) {
        precondition(zip(bounds, bounds.dropFirst()).allSatisfy { $0 < $1 }, "bounds must ascend")
        self.bounds = bounds
        counts = [Int64](repeating: 0, count: bounds.count + 1)
    }

    public mutating func observe(_ value: Double) {
        var index = 0
        while index < bounds.count, value > bounds[index] { index += 1 }
        counts[index] += 1
        sum += value
        count += 1
    }

    /// Cumulative counts per bound (the `le` buckets), ending with +Inf.
    public var cumulativeCounts: [Int64] {
        var total: Int64 = 0
        return counts.map {
            total += $0
            return total
        }
    }

    /// Prometheus client defaults for request latencies (seconds), as `prometheus.DefBuckets`.
    public static let defaultSecondsBounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    /// Finer at the low end, for work that usually takes well under a millisecond (a group commit).
    public static let fastSecondsBounds: [Double] = [
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
    ]
}
