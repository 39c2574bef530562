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
    /// Keyed by names with their hashes (``ClientName``): applying a group looks up every client cell.
    private var clients: [SeriesKey: [ClientName: ClientState]] = [:]

    public init(maxClientsPerSeries: Int) {
        self.maxClientsPerSeries = maxClientsPerSeries
    }

    /// Maps clients past the cap to ``otherClient`` (call before persisting, in commit order). `pending`: the clients
    /// admitted for a group that is not applied yet, which count against the cap too. Returns the cells and the
    /// clients admitted by this call.
    public func resolveCells(
        _ cells: [BatchDelta.ClientCell: OutcomeCounts], pending: [SeriesKey: Set<String>] = [:]
    ) -> (cells: [BatchDelta.ClientCell: OutcomeCounts], admitted: [SeriesKey: Set<String>]) {
        // Usually every client is known already: the cells pass unchanged, without sorting them by name.
        if cells.keys.allSatisfy({ clients[$0.series]?[$0.clientName] != nil }) { return (cells, [:]) }
        var result: [BatchDelta.ClientCell: OutcomeCounts] = [:]
        var admitted: [SeriesKey: Set<String>] = [:]
        for (cell, counts) in cells.sorted(by: { $0.key.client < $1.key.client }) {
            var resolved = cell
            let known = clients[cell.series]
            let alsoKnown = pending[cell.series]
            if known?[cell.clientName] == nil, alsoKnown?.contains(cell.client) != true {
                let newOnes = admitted[cell.series, default: []]
                let stillPending = alsoKnown?.count(where: { known?[ClientName($0)] == nil }) ?? 0
                if (known?.count ?? 0) + stillPending + newOnes.count >= maxClientsPerSeries, !newOnes.contains(cell.client) {
                    resolved.clientName = Self.otherName
                } else {
                    admitted[cell.series, default: []].insert(cell.client)
                }
            }
            result[resolved, default: .zero] += counts
        }
        return (result, admitted)
    }

    public mutating func apply(_ cells: [BatchDelta.ClientCell: OutcomeCounts], receivedAtMs: Int64) {
        for (cell, counts) in cells {
            // Changed in place: a copy of the state would copy its buckets on the first change.
            clients[cell.series, default: [:]][cell.clientName, default: ClientState()].add(
                counts, at: cell.bucketStartMs, seenMs: receivedAtMs)
        }
    }

    /// Restores one stored bucket.
    public mutating func restore(series: SeriesKey, client: String, bucket: SeriesBuckets.Bucket) {
        clients[series, default: [:]][ClientName(client), default: ClientState()].add(
            bucket.counts, at: bucket.startMs, seenMs: bucket.startMs)
    }

    /// The clients of `series` with the highest duplicate ratio over the window starting at `lowerBoundMs`.
    public func top(of series: SeriesKey, fromMs lowerBoundMs: Int64, limit: Int) -> [Ranked] {
        guard let known = clients[series] else { return [] }
        let ranked = known.compactMap { client, state -> Ranked? in
            let counts = state.buckets.sums(startingAtOrAfter: [lowerBoundMs])[0]
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
        for series in Array(clients.keys) {
            var known = clients[series]!
            for (client, var state) in known {
                if state.lastSeenMs < cutoff {
                    known[client] = nil
                } else {
                    state.buckets.removeBuckets(before: BucketClock.start(of: cutoff, widthMs: bucketWidthMs))
                    known[client] = state
                }
            }
            clients[series] = known.isEmpty ? nil : known
        }
    }
}
