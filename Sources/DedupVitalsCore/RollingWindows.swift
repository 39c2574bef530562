import OrderedCollections

/// The in-memory rolling-window aggregates of every series: running totals plus sparse time buckets.
///
/// Pure state: the storage adapter rebuilds it from SQLite at start and applies each committed ``BatchDelta``.
public struct RollingWindows: Sendable {
    /// One series' state.
    public struct SeriesState: Sendable, Equatable {
        /// Running totals since the series first appeared (the counters).
        public var totals: OutcomeCounts = .zero
        public var buckets = SeriesBuckets()
        /// When the series last received events (receive time, ms).
        public var lastSeenMs: Int64 = 0
        public init() {}
    }

    /// The counts of one series in each configured window.
    public struct SeriesWindows: Sendable, Equatable {
        public var series: SeriesKey
        public var totals: OutcomeCounts
        /// Parallel to the `windows` the snapshot was taken for.
        public var windows: [OutcomeCounts]
        public var lastSeenMs: Int64
    }

    public let bucketWidthMs: Int64
    public private(set) var series: [SeriesKey: SeriesState] = [:]
    /// The keys of `series` in order, kept up to date so that a snapshot (every scrape) need not sort 10,000 keys;
    /// unsorted only between restoring at start and the first apply.
    private var orderedKeys: [SeriesKey] = []
    private var orderedKeysSorted = true

    public init(bucketWidthMs: Int64 = BucketClock.defaultWidthMs) {
        self.bucketWidthMs = bucketWidthMs
    }

    public var seriesCount: Int { series.count }

    /// Applies a committed delta.
    public mutating func apply(_ delta: BatchDelta) {
        var added = false
        for (cell, counts) in delta.cells {
            // Changed in place through the dictionary's index: one lookup, and the buckets are not copied.
            var index = series.index(forKey: cell.series)
            if index == nil {
                series[cell.series] = SeriesState()
                orderedKeys.append(cell.series)
                added = true
                index = series.index(forKey: cell.series)
            }
            Self.add(counts, at: cell.bucketStartMs, seenMs: delta.receivedAtMs, to: &series.values[index!])
        }
        if added || !orderedKeysSorted {
            orderedKeys.sort()  // a sorted run and a short tail: close to linear
            orderedKeysSorted = true
        }
    }

    private static func add(_ counts: OutcomeCounts, at bucketStartMs: Int64, seenMs: Int64, to state: inout SeriesState) {
        state.totals += counts
        state.buckets.add(counts, at: bucketStartMs)
        state.lastSeenMs = max(state.lastSeenMs, seenMs)
    }

    /// Whether the series has state (without copying it).
    public func contains(_ key: SeriesKey) -> Bool { series.index(forKey: key) != nil }

    /// Restores one series from storage.
    public mutating func restore(_ key: SeriesKey, totals: OutcomeCounts, lastSeenMs: Int64, buckets: [SeriesBuckets.Bucket]) {
        var state = SeriesState()
        state.totals = totals
        state.lastSeenMs = lastSeenMs
        for bucket in buckets { state.buckets.add(bucket.counts, at: bucket.startMs) }
        if series.updateValue(state, forKey: key) == nil {
            orderedKeys.append(key)
            orderedKeysSorted = false
        }
    }

    /// The series last seen before `cutoffMs` (the ones ``prune(nowMs:retentionMs:bucketHorizonMs:)`` drops).
    public func idleSeries(before cutoffMs: Int64) -> [SeriesKey] {
        series.compactMap { $0.value.lastSeenMs < cutoffMs ? $0.key : nil }
    }

    /// Drops series not seen for the retention, and buckets older than `bucketHorizonMs` (default: the retention;
    /// in memory, only the longest window anything reads needs to be kept). Returns the dropped series.
    @discardableResult
    public mutating func prune(nowMs: Int64, retentionMs: Int64, bucketHorizonMs: Int64? = nil) -> [SeriesKey] {
        let cutoff = nowMs - retentionMs
        let bucketCutoff = nowMs - min(bucketHorizonMs ?? retentionMs, retentionMs)
        var dropped: [SeriesKey] = []
        for key in Array(series.keys) {
            if series[key]!.lastSeenMs < cutoff {
                series[key] = nil
                dropped.append(key)
            } else {
                series[key]!.buckets.removeBuckets(before: BucketClock.start(of: bucketCutoff, widthMs: bucketWidthMs))
            }
        }
        if !dropped.isEmpty {
            let gone = Set(dropped)
            orderedKeys.removeAll { gone.contains($0) }
        }
        return dropped
    }

    /// The first bucket start included in a window of `windowMs` ending now: the current (partial) bucket and the
    /// `windowMs / bucketWidth - 1` before it. Buckets dated in the future (clients' clocks ahead) are included too.
    public func lowerBound(windowMs: Int64, nowMs: Int64) -> Int64 {
        BucketClock.start(of: nowMs, widthMs: bucketWidthMs) - windowMs + bucketWidthMs
    }

    /// Counts of one series for each window.
    public func windowCounts(of key: SeriesKey, windows: [PromDuration], nowMs: Int64) -> [OutcomeCounts]? {
        guard let state = series[key] else { return nil }
        let (order, bounds) = windowOrder(windows, nowMs: nowMs)
        return counts(state, order: order, bounds: bounds)
    }

    /// Every series with its totals and window counts, sorted by (service, operation).
    public func snapshot(windows: [PromDuration], nowMs: Int64) -> [SeriesWindows] {
        let keys = orderedKeysSorted ? orderedKeys : orderedKeys.sorted()
        // The windows' order and lower bounds are the same for every series: worked out once, not per series
        // (a sort and two arrays per series were a fifth of a /metrics scrape at 10,000 series).
        let (order, bounds) = windowOrder(windows, nowMs: nowMs)
        return keys.map { key in
            let state = series[key]!
            return SeriesWindows(
                series: key, totals: state.totals, windows: counts(state, order: order, bounds: bounds),
                lastSeenMs: state.lastSeenMs)
        }
    }

    /// Per-bucket counts of one series from `fromMs` on, with empty buckets filled in, for sparklines.
    public func bucketSeries(of key: SeriesKey, fromMs: Int64, toMs: Int64) -> [SeriesBuckets.Bucket] {
        let first = BucketClock.start(of: fromMs, widthMs: bucketWidthMs)
        let last = BucketClock.start(of: toMs, widthMs: bucketWidthMs)
        guard first <= last else { return [] }
        var result: [SeriesBuckets.Bucket] = []
        result.reserveCapacity(Int((last - first) / bucketWidthMs) + 1)
        let stored = series[key]?.buckets.buckets ?? []
        var index = series[key]?.buckets.insertionIndex(of: first) ?? 0
        var start = first
        while start <= last {
            var counts = OutcomeCounts.zero
            if index < stored.count, stored[index].startMs == start {
                counts = stored[index].counts
                index += 1
            }
            result.append(.init(startMs: start, counts: counts))
            start += bucketWidthMs
        }
        return result
    }

    /// The windows' indexes from the shortest window to the longest, and their lower bounds in that order.
    private func windowOrder(_ windows: [PromDuration], nowMs: Int64) -> (order: [Int], bounds: [Int64]) {
        let order = windows.indices.sorted { windows[$0].milliseconds < windows[$1].milliseconds }
        return (order, order.map { lowerBound(windowMs: windows[$0].milliseconds, nowMs: nowMs) })
    }

    /// The counts of `state` in each window: `order` lists the windows from the shortest, `bounds` their lower
    /// bounds in that order. Sums from the shortest window outwards in one pass, then puts the results back in
    /// configured order.
    private func counts(_ state: SeriesState, order: [Int], bounds: [Int64]) -> [OutcomeCounts] {
        state.buckets.sums(startingAtOrAfter: bounds, placedAt: order)
    }
}
