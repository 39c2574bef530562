import OrderedCollections

/// Caller attribution: per (series, client) counts in time buckets, to rank clients by duplicate ratio.
/// At most `maxClientsPerSeries` clients are tracked per series; later ones are counted as ``otherClient``.
public struct ClientAttribution: Sendable {
    /// The client name that collects clients beyond the cap.
    public static let otherClient = "_other"
    private static let otherName = ClientName(otherClient)

    public struct Ranked: Sendable, Equatable {
        public var client: String
        public var counts: OutcomeCounts
    }

    private struct ClientState: Sendable {
        var buckets = SeriesBuckets()
        var lastSeenMs: Int64 = 0

        mutating func add(_ counts: OutcomeCounts, at startMs: Int64, seenMs: Int64) {
            buckets.add(counts, at: startMs)
            lastSeenMs = max(lastSeenMs, seenMs)
        }
    }

    public let maxClientsPerSeries: Int
    /// One flat table of pairs with their states: applying a group looks up every client cell it has, and a table of
    /// tables cost a second lookup (and its cache misses) per cell.
    private var states = ClientPairTable<ClientState>()
    /// The clients of each series (for the cap, the ranking and pruning).
    private var names: [SeriesKey: [ClientName]] = [:]

    public init(maxClientsPerSeries: Int) {
        self.maxClientsPerSeries = maxClientsPerSeries
    }

    /// Maps clients past the cap to ``otherClient`` (call before persisting, in commit order). `pending`: the clients
    /// admitted for a group that is not applied yet, which count against the cap too. Returns the cells and the
    /// clients admitted by this call.
    public func resolveCells(
        _ cells: BatchDelta.ClientCells, pending: [SeriesKey: Set<String>] = [:]
    ) -> (cells: BatchDelta.ClientCells, admitted: [SeriesKey: Set<String>]) {
        // Usually every client is known already: the cells pass unchanged, without sorting them by name.
        if cells.keys.allSatisfy({ states.find($0.series, $0.clientName) != nil }) { return (cells, [:]) }
        var result: BatchDelta.ClientCells = [:]
        var admitted: [SeriesKey: Set<String>] = [:]
        for (cell, counts) in cells.sorted(by: { $0.key.client < $1.key.client }) {
            var resolved = cell
            let alsoKnown = pending[cell.series]
            if !isKnown(cell.series, cell.clientName), alsoKnown?.contains(cell.client) != true {
                let newOnes = admitted[cell.series, default: []]
                let stillPending = alsoKnown?.count(where: { !isKnown(cell.series, ClientName($0)) }) ?? 0
                let knownCount = names[cell.series]?.count ?? 0
                if knownCount + stillPending + newOnes.count >= maxClientsPerSeries, !newOnes.contains(cell.client) {
                    resolved.clientName = Self.otherName
                } else {
                    admitted[cell.series, default: []].insert(cell.client)
                }
            }
            result[resolved, default: .zero] += counts
        }
        return (result, admitted)
    }

    /// Every caller name tracked in any series. While all the callers a deployment has fit under the cap, no series
    /// can reach it, and admission need not look each (series, client) pair up (see the server's pending admissions).
    public var callerNames: Set<ClientName> { Set(states.entries.lazy.map(\.client)) }

    private func isKnown(_ series: SeriesKey, _ client: ClientName) -> Bool {
        states.find(series, client) != nil
    }

    /// Adds a committed group's client cells. The entries of all of them are found and prefetched first, then
    /// changed, so that their cache misses overlap rather than each lookup waiting for its own; a cell's series and
    /// caller are read where the group keeps them, by position, not copied (docs/performance.md).
    public mutating func apply(_ group: BatchDelta) {
        let cells = group.cells.keys
        let names = group.clientNames
        let slots = group.clientSlots
        let candidates = states.candidates(count: slots.count) { offset in
            let slot = slots.keys[offset]
            return ClientPairTable<ClientState>.hash(cells[Int(slot.cell)].series, names[Int(slot.client)])
        }
        for (offset, (slot, counts)) in slots.enumerated() {
            let cell = Int(slot.cell)
            let client = Int(slot.client)
            let candidate = candidates[offset]
            let position =
                states.isEntry(at: candidate, cells[cell].series, names[client])
                ? candidate : position(cells[cell].series, names[client])
            states.modifyValue(at: position) {
                $0.add(counts, at: cells[cell].bucketStartMs, seenMs: group.receivedAtMs)
            }
        }
    }

    /// Restores one stored bucket.
    public mutating func restore(series: SeriesKey, client: String, bucket: SeriesBuckets.Bucket) {
        let position = position(series, ClientName(client))
        states.modifyValue(at: position) { $0.add(bucket.counts, at: bucket.startMs, seenMs: bucket.startMs) }
    }

    /// The position of the pair's state, added when new.
    private mutating func position(_ series: SeriesKey, _ client: ClientName) -> Int {
        if let position = states.find(series, client) { return position }
        names[series, default: []].append(client)
        return states.insert(series, client, value: ClientState())
    }

    /// The clients of `series` with the highest duplicate ratio over the window starting at `lowerBoundMs`.
    public func top(of series: SeriesKey, fromMs lowerBoundMs: Int64, limit: Int) -> [Ranked] {
        guard let known = names[series] else { return [] }
        let ranked = known.compactMap { client -> Ranked? in
            guard let position = states.find(series, client) else { return nil }
            let counts = states.entries[position].value.buckets.sums(startingAtOrAfter: [lowerBoundMs])[0]
            return counts.attempts > 0 ? Ranked(client: client.name, counts: counts) : nil
        }
        return Array(
            ranked.sorted {
                ($0.counts.duplicateRatio, $0.counts.attempts, $1.client) > (
                    $1.counts.duplicateRatio, $1.counts.attempts, $0.client
                )
            }.prefix(limit))
    }

    /// Drops old buckets and clients not seen for the retention.
    public mutating func prune(nowMs: Int64, retentionMs: Int64, bucketWidthMs: Int64) {
        let cutoff = nowMs - retentionMs
        let bucketCutoff = BucketClock.start(of: cutoff, widthMs: bucketWidthMs)
        var removed = false
        for position in 0..<states.count {
            states.modifyValue(at: position) { state in
                if state.lastSeenMs < cutoff {
                    removed = true
                } else {
                    state.buckets.removeBuckets(before: bucketCutoff)
                }
            }
        }
        guard removed else { return }
        states.removeAll { $0.value.lastSeenMs < cutoff }
        names = [:]
        for entry in states.entries { names[entry.series, default: []].append(entry.client) }
    }
}
