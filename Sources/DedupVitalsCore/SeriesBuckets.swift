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

    /// Every bucket but the newest, sorted by start.
    private var older: [Bucket] = []
    /// The newest bucket (the one events arrive in), held inline: adding to it touches no other memory. Applying a
    /// commit group adds to the newest bucket of every series and (series, client) it touches; with the buckets in
    /// an array of their own, each add was two cache misses (the array's header and its last element), and at 1,000
    /// series and 7 callers those misses were the largest single cost of keyless ingest (docs/performance.md).
    /// nil only when there are no buckets.
    private var newest: Bucket?

    public init() {}

    /// Every bucket, sorted by start.
    public var buckets: [Bucket] { newest.map { older + [$0] } ?? older }

    /// Adds counts into the bucket starting at `startMs`; adding to the newest bucket or starting a newer one is O(1).
    public mutating func add(_ counts: OutcomeCounts, at startMs: Int64) {
        guard let current = newest else {
            newest = Bucket(startMs: startMs, counts: counts)
            return
        }
        if current.startMs == startMs {
            newest!.counts += counts
        } else if current.startMs < startMs {
            older.append(current)
            newest = Bucket(startMs: startMs, counts: counts)
        } else {
            let index = Self.insertionIndex(of: startMs, in: older)
            if index < older.count, older[index].startMs == startMs {
                older[index].counts += counts
            } else {
                older.insert(Bucket(startMs: startMs, counts: counts), at: index)
            }
        }
    }

    /// Drops buckets that start before `ms`.
    public mutating func removeBuckets(before ms: Int64) {
        guard let current = newest else { return }
        if current.startMs < ms {
            older = []
            newest = nil
            return
        }
        let index = Self.insertionIndex(of: ms, in: older)
        if index > 0 { older.removeFirst(index) }
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
        var pendingNewest = newest
        var i = older.count - 1
        while boundIndex < lowerBounds.count {
            let bound = lowerBounds[boundIndex]
            // The newest bucket comes first going backwards; when it is before the bound, so is every older one.
            if let bucket = pendingNewest, bucket.startMs >= bound {
                running += bucket.counts
                pendingNewest = nil
            }
            while i >= 0, older[i].startMs >= bound {
                running += older[i].counts
                i -= 1
            }
            result[positions[boundIndex]] = running
            boundIndex += 1
        }
        return result
    }

    /// Index in ``buckets`` of the first bucket whose start is ≥ `ms`.
    func insertionIndex(of ms: Int64) -> Int {
        let index = Self.insertionIndex(of: ms, in: older)
        if index == older.count, let newest, newest.startMs < ms { return index + 1 }
        return index
    }

    private static func insertionIndex(of ms: Int64, in buckets: [Bucket]) -> Int {
        var low = 0
        var high = buckets.count
        while low < high {
            let mid = (low + high) / 2
            if buckets[mid].startMs < ms { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
