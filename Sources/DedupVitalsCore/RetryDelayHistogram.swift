/// A cumulative histogram of retry delays (`dedup_retry_delay_seconds`), buckets from 100 ms to 24 h.
///
/// The counts are stored inline (an `InlineArray`), not in an array on the heap: key forensics keeps one histogram
/// per series and copies it before each commit group that observes a delay in the series (for rollback), and the
/// group keeps its own. With the counts on the heap, each copy shared their storage, so the next observation copied
/// it anew (an allocation and a release per series and group, and a retain on a cache line of its own for every
/// copy): at 1,000 series that grew with the series a group touches (docs/performance.md).
public struct RetryDelayHistogram: Sendable, Equatable {
    /// Upper bounds in seconds; a final +Inf bucket follows.
    public static let bounds: [Double] = [
        0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21_600, 43_200, 86_400,
    ]

    /// Buckets: one per bound, then +Inf (the size of ``Buckets``).
    public static let bucketCount = 19
    /// The counts' inline storage (its size is ``bucketCount``: a type's size must be a literal).
    typealias Buckets = InlineArray<19, Int64>

    private var buckets: Buckets
    /// Non-cumulative counts per bucket; the last one is above the largest bound (a new array: on the ingest path,
    /// ``withCounts(_:)`` reads them in place).
    public var counts: [Int64] { withCounts(Array.init) }
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
        buckets = Buckets(repeating: 0)
        sum = 0
        count = 0
    }

    /// Restores a stored histogram; nil when the stored shape does not match.
    public init?(counts: [Int64], sum: Double) {
        guard counts.count == Self.bucketCount else { return nil }
        buckets = Buckets { counts[$0] }
        self.sum = sum
        self.count = counts.reduce(0, +)
    }

    /// Calls `body` with the non-cumulative counts per bucket, read in place.
    public func withCounts<Result>(_ body: (UnsafeBufferPointer<Int64>) throws -> Result) rethrows -> Result {
        try buckets.span.withUnsafeBufferPointer(body)
    }

    public static func == (lhs: RetryDelayHistogram, rhs: RetryDelayHistogram) -> Bool {
        guard lhs.sum == rhs.sum, lhs.count == rhs.count, lhs.exemplars == rhs.exemplars else { return false }
        for index in 0..<bucketCount where lhs.buckets[index] != rhs.buckets[index] { return false }
        return true
    }

    public mutating func observe(seconds: Double, exemplar: TracedMoment? = nil) {
        let value = max(0, seconds)
        var index = 0
        while index < Self.bounds.count, value > Self.bounds[index] { index += 1 }
        buckets[index] += 1
        sum += value
        count += 1
        if let exemplar {
            if exemplars.isEmpty { exemplars = Array(repeating: nil, count: Self.bucketCount) }
            exemplars[index] = Exemplar(moment: exemplar, value: value)
        }
    }

    public mutating func merge(_ other: RetryDelayHistogram) {
        for index in 0..<Self.bucketCount { buckets[index] += other.buckets[index] }
        sum += other.sum
        count += other.count
    }

    /// Cumulative counts per bound (the `le` buckets), ending with +Inf.
    public var cumulativeCounts: [Int64] {
        var running: Int64 = 0
        return (0..<Self.bucketCount).map {
            running += buckets[$0]
            return running
        }
    }

    /// The q-quantile estimated by linear interpolation inside the bucket (as PromQL's histogram_quantile); nil
    /// without observations. Values in the +Inf bucket report the largest bound.
    public func quantile(_ q: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = q * Double(count)
        var running: Int64 = 0
        for index in 0..<Self.bucketCount {
            let bucketCount = buckets[index]
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
