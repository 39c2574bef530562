/// The time buckets of one series, sorted by start; sparse (only buckets that saw events).
public struct SeriesBuckets: Sendable, Equatable {
    public struct Bucket: Sendable, Equatable {
        public var startMs: Int64
        public var counts: OutcomeCounts
        public init(startMs: Int64, counts: OutcomeCounts) {
            self.startMs = startMs
            self.counts = counts
        }
    }

    public private(set) var buckets: [Bucket] = []

    public init() {}

    /// Adds counts into the bucket starting at `startMs`; appending in time order is O(1).
    public mutating func add(_ counts: OutcomeCounts, at startMs: Int64) {
        if let last = buckets.last {
            if last.startMs == startMs {
                buckets[buckets.count - 1].counts += counts
                return
            }
            if last.startMs > startMs {
                let index = insertionIndex(of: startMs)
                if index < buckets.count, buckets[index].startMs == startMs {
                    buckets[index].counts += counts
                } else {
                    buckets.insert(Bucket(startMs: startMs, counts: counts), at: index)
                }
                return
            }
        }
        buckets.append(Bucket(startMs: startMs, counts: counts))
    }

    /// Drops buckets that start before `ms`.
    public mutating func removeBuckets(before ms: Int64) {
        let index = insertionIndex(of: ms)
        if index > 0 { buckets.removeFirst(index) }
    }

    /// Sums for several lower bounds in one backwards pass. `lowerBounds` must be sorted descending
    /// (shortest window first); result `i` sums every bucket starting at or after `lowerBounds[i]`.
    public func sums(startingAtOrAfter lowerBounds: [Int64]) -> [OutcomeCounts] {
        sums(startingAtOrAfter: lowerBounds, placedAt: Array(lowerBounds.indices))
    }

    /// The same sums, the one for `lowerBounds[k]` at index `positions[k]` of the result (`positions` is a
    /// permutation of the indices): the windows of a snapshot in their configured order without a second array.
    public func sums(startingAtOrAfter lowerBounds: [Int64], placedAt positions: [Int]) -> [OutcomeCounts] {
        var result = [OutcomeCounts](repeating: .zero, count: lowerBounds.count)
        var running = OutcomeCounts.zero
        var boundIndex = 0
        var i = buckets.count - 1
        while boundIndex < lowerBounds.count {
            let bound = lowerBounds[boundIndex]
            while i >= 0, buckets[i].startMs >= bound {
                running += buckets[i].counts
                i -= 1
            }
            result[positions[boundIndex]] = running
            boundIndex += 1
        }
        return result
    }

    /// Index of the first bucket whose start is ≥ `ms`.
    func insertionIndex(of ms: Int64) -> Int {
        var low = 0
        var high = buckets.count
        while low < high {
            let mid = (low + high) / 2
            if buckets[mid].startMs < ms { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
