/// A cumulative histogram of retry delays (`dedup_retry_delay_seconds`), buckets from 100 ms to 24 h.
public struct RetryDelayHistogram: Sendable, Equatable {
    /// Upper bounds in seconds; a final +Inf bucket follows.
    public static let bounds: [Double] = [
        0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21_600, 43_200, 86_400,
    ]

    /// Non-cumulative counts per bucket; the last one is above the largest bound.
    public private(set) var counts: [Int64]
    public private(set) var sum: Double
    public private(set) var count: Int64
    /// Per bucket, the latest observation that carried a trace (the bucket's OpenMetrics exemplar); empty until one
    /// does. Not stored: after a restart exemplars start empty, as in Prometheus client libraries.
    public private(set) var exemplars: [Exemplar?] = []

    /// One observation with its trace.
    public struct Exemplar: Sendable, Equatable {
        public var moment: TracedMoment
        /// The observed delay, in seconds.
        public var value: Double
    }

    public init() {
        counts = [Int64](repeating: 0, count: Self.bounds.count + 1)
        sum = 0
        count = 0
    }

    /// Restores a stored histogram; nil when the stored shape does not match.
    public init?(counts: [Int64], sum: Double) {
        guard counts.count == Self.bounds.count + 1 else { return nil }
        self.counts = counts
        self.sum = sum
        self.count = counts.reduce(0, +)
    }

    public mutating func observe(seconds: Double, exemplar: TracedMoment? = nil) {
        let value = max(0, seconds)
        var index = 0
        while index < Self.bounds.count, value > Self.bounds[index] { index += 1 }
        counts[index] += 1
        sum += value
        count += 1
        if let exemplar {
            if exemplars.isEmpty { exemplars = Array(repeating: nil, count: counts.count) }
            exemplars[index] = Exemplar(moment: exemplar, value: value)
        }
    }

    public mutating func merge(_ other: RetryDelayHistogram) {
        for index in counts.indices { counts[index] += other.counts[index] }
        sum += other.sum
        count += other.count
    }

    /// Cumulative counts per bound (the `le` buckets), ending with +Inf.
    public var cumulativeCounts: [Int64] {
        var running: Int64 = 0
        return counts.map {
            running += $0
            return running
        }
    }

    /// The q-quantile estimated by linear interpolation inside the bucket (as PromQL's histogram_quantile); nil
    /// without observations. Values in the +Inf bucket report the largest bound.
    public func quantile(_ q: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = q * Double(count)
        var running: Int64 = 0
        for (index, bucketCount) in counts.enumerated() {
            let previous = running
            running += bucketCount
            if Double(running) >= rank, bucketCount > 0 {
                guard index < Self.bounds.count else { return Self.bounds.last }
                let lower = index == 0 ? 0 : Self.bounds[index - 1]
                let upper = Self.bounds[index]
                return lower + (upper - lower) * (rank - Double(previous)) / Double(bucketCount)
            }
        }
        return Self.bounds.last
    }
}
