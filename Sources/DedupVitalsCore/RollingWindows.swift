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
    /// The series' states and keys, side by side, in the order they were added; `positions` finds a series' place.
    /// A snapshot (every scrape, every rule evaluation) reads them through `ordered` without hashing a series: a
    /// dictionary lookup per series was a sixth of a protobuf scrape at 10,000 series (docs/performance.md).
    private var states: [SeriesState] = []
    private var keys: [SeriesKey] = []
    private var positions: [SeriesKey: Int] = [:]
    /// The positions in `states`, in (service, operation) order, kept up to date so that a snapshot need not sort
    /// 10,000 keys; unsorted only between restoring at start and the first apply.
    private var ordered: [Int] = []
    private var orderedSorted = true

    public init(bucketWidthMs: Int64 = BucketClock.defaultWidthMs) {
        self.bucketWidthMs = bucketWidthMs
    }

    public var seriesCount: Int { states.count }

    /// Every series' state, in the order the series were added.
    public var allStates: [SeriesState] { states }

    /// The state of one series.
    public func state(of key: SeriesKey) -> SeriesState? {
        positions[key].map { states[$0] }
    }

    /// Applies a committed delta.
    public mutating func apply(_ delta: BatchDelta) {
        // Every cell's series found first, then the states changed: the lookups depend on nothing but the table, so
        // their cache misses overlap, where a lookup followed by its state's change waited for each miss in turn
        // (at 1,000 series a group's cells are mostly different series; docs/performance.md).
        let cells = delta.cells.keys
        var found = [Int](repeating: -1, count: cells.count)
        for index in cells.indices { found[index] = positions[cells[index].series] ?? -1 }
        let counts = delta.cells.values
        for index in cells.indices {
            // Changed in place: the buckets are not copied.
            var position = found[index]
            // Not known before the group, or added by one of its earlier cells (a series in several buckets).
            if position < 0 { position = positions[cells[index].series] ?? add(cells[index].series, SeriesState()) }
            Self.add(counts[index], at: cells[index].bucketStartMs, seenMs: delta.receivedAtMs, to: &states[position])
        }
        if !orderedSorted { sortOrdered() }
    }

    /// Adds a series not yet known; returns its position.
    private mutating func add(_ key: SeriesKey, _ state: SeriesState) -> Int {
        let position = states.count
        states.append(state)
        keys.append(key)
        positions[key] = position
        ordered.append(position)
        orderedSorted = false
        return position
    }

    private mutating func sortOrdered() {
        let keys = keys
        ordered.sort { keys[$0] < keys[$1] }  // a sorted run and a short tail: close to linear
        orderedSorted = true
    }

    private static func add(_ counts: OutcomeCounts, at bucketStartMs: Int64, seenMs: Int64, to state: inout SeriesState) {
        state.totals += counts
        state.buckets.add(counts, at: bucketStartMs)
        state.lastSeenMs = max(state.lastSeenMs, seenMs)
    }

    /// Whether the series has state (without copying it).
    public func contains(_ key: SeriesKey) -> Bool { positions[key] != nil }

    /// Restores one series from storage.
    public mutating func restore(_ key: SeriesKey, totals: OutcomeCounts, lastSeenMs: Int64, buckets: [SeriesBuckets.Bucket]) {
        var state = SeriesState()
        state.totals = totals
        state.lastSeenMs = lastSeenMs
        for bucket in buckets { state.buckets.add(bucket.counts, at: bucket.startMs) }
        if let position = positions[key] {
            states[position] = state
        } else {
            _ = add(key, state)
        }
    }

    /// The series last seen before `cutoffMs` (the ones ``prune(nowMs:retentionMs:bucketHorizonMs:)`` drops).
    public func idleSeries(before cutoffMs: Int64) -> [SeriesKey] {
        states.indices.compactMap { states[$0].lastSeenMs < cutoffMs ? keys[$0] : nil }
    }

    /// Drops series not seen for the retention, and buckets older than `bucketHorizonMs` (default: the retention;
    /// in memory, only the longest window anything reads needs to be kept). Returns the dropped series.
    @discardableResult
    public mutating func prune(nowMs: Int64, retentionMs: Int64, bucketHorizonMs: Int64? = nil) -> [SeriesKey] {
        let cutoff = nowMs - retentionMs
        let bucketCutoff = nowMs - min(bucketHorizonMs ?? retentionMs, retentionMs)
        let firstKept = BucketClock.start(of: bucketCutoff, widthMs: bucketWidthMs)
        var dropped: [SeriesKey] = []
        for position in states.indices {
            if states[position].lastSeenMs < cutoff {
                dropped.append(keys[position])
            } else {
                states[position].buckets.removeBuckets(before: firstKept)
            }
        }
        guard !dropped.isEmpty else { return dropped }
        // Close up the kept series in their order of addition and number them again.
        var renumbered = [Int](repeating: -1, count: states.count)
        var write = 0
        for read in states.indices where states[read].lastSeenMs >= cutoff {
            renumbered[read] = write
            if write != read {
                states.swapAt(write, read)
                keys.swapAt(write, read)
            }
            write += 1
        }
        states.removeLast(states.count - write)
        keys.removeLast(keys.count - write)
        for key in dropped { positions[key] = nil }
        for (position, key) in keys.enumerated() { positions[key] = position }
        ordered = ordered.compactMap { renumbered[$0] >= 0 ? renumbered[$0] : nil }
        return dropped
    }

    /// The first bucket start included in a window of `windowMs` ending now: the current (partial) bucket and the
    /// `windowMs / bucketWidth - 1` before it. Buckets dated in the future (clients' clocks ahead) are included too.
    public func lowerBound(windowMs: Int64, nowMs: Int64) -> Int64 {
        BucketClock.start(of: nowMs, widthMs: bucketWidthMs) - windowMs + bucketWidthMs
    }

    /// Counts of one series for each window.
    public func windowCounts(of key: SeriesKey, windows: [PromDuration], nowMs: Int64) -> [OutcomeCounts]? {
        guard let state = state(of: key) else { return nil }
        let (order, bounds) = windowOrder(windows, nowMs: nowMs)
        return counts(state, order: order, bounds: bounds)
    }

    /// Every series with its totals and window counts, sorted by (service, operation).
    public func snapshot(windows: [PromDuration], nowMs: Int64) -> [SeriesWindows] {
        let keys = keys
        let ordered = orderedSorted ? ordered : ordered.sorted { keys[$0] < keys[$1] }
        // The windows' order and lower bounds are the same for every series: worked out once, not per series
        // (a sort and two arrays per series were a fifth of a /metrics scrape at 10,000 series).
        let (order, bounds) = windowOrder(windows, nowMs: nowMs)
        return states.withUnsafeBufferPointer { states in
            ordered.map { position in
                SeriesWindows(
                    series: keys[position], totals: states[position].totals,
                    windows: states[position].buckets.sums(startingAtOrAfter: bounds, placedAt: order),
                    lastSeenMs: states[position].lastSeenMs)
            }
        }
    }

    /// Per-bucket counts of one series from `fromMs` on, with empty buckets filled in, for sparklines.
    public func bucketSeries(of key: SeriesKey, fromMs: Int64, toMs: Int64) -> [SeriesBuckets.Bucket] {
        let first = BucketClock.start(of: fromMs, widthMs: bucketWidthMs)
        let last = BucketClock.start(of: toMs, widthMs: bucketWidthMs)
        guard first <= last else { return [] }
        var result: [SeriesBuckets.Bucket] = []
        result.reserveCapacity(Int((last - first) / bucketWidthMs) + 1)
        let state = state(of: key)
        let stored = state?.buckets.buckets ?? []
        var index = state?.buckets.insertionIndex(of: first) ?? 0
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
