import DedupVitalsCore
import DequeModule
import HTTPTypes
import OrderedCollections
import Synchronization

/// What batches admitted into a commit group but not yet committed or failed have claimed: their new series and
/// their new clients per series. The one place that tracks "admitted but not yet committed".
///
/// The live windows and the client attribution grow only when a group is applied after its commit, so the series
/// limit (`limits.max_series`) and the client cap (`max_clients_per_series`) count these too: otherwise two batches
/// prepared before either commits could both take the last place. Admissions are made under the group committer's
/// lock, in commit order; the writer settles them once their group is applied or rolled back.
///
/// Lock order: the committer's lock, then this one, then a lock of ``LiveState`` (never the other way round).
final class PendingAdmissions: Sendable {
    private struct Pending {
        var series: Set<SeriesKey> = []
        var clients: [SeriesKey: Set<String>] = [:]
        /// Every caller name tracked or admitted since start, while they fit under the client cap; nil once they did
        /// not (for the rest of the process: the set is never shrunk, so it stays an upper bound of any series' callers).
        var callers: Set<ClientName>?
        /// The batches admitted without a check of their client cells while `callers` fit, in commit order, until their
        /// group is settled (with each batch's events, which is how a settled group is matched to them).
        var unchecked: Deque<(events: Int, batch: BatchDelta)> = []
        /// Every batch the series limit admitted and whose group is not settled yet, in commit order, with its events
        /// and, when the limit did not check its series, its cells (nil when it did: their new series are in `series`).
        var admittedSeries: Deque<(events: Int, unchecked: BatchDelta.Cells?)> = []
        /// The cells of the batches in `admittedSeries` whose series were not checked: at least the new series they
        /// may create.
        var uncheckedSeriesBound = 0
    }

    private let pending: Mutex<Pending>
    private let maxClientsPerSeries: Int

    /// - Parameters:
    ///   - callers: the caller names the live state tracks (restored from the database).
    ///   - maxClientsPerSeries: the client cap.
    init(callers: Set<ClientName>, maxClientsPerSeries: Int) {
        self.maxClientsPerSeries = maxClientsPerSeries
        pending = Mutex(Pending(callers: callers.count <= maxClientsPerSeries ? callers : nil))
    }

    /// Refuses a batch that would create series beyond `maxSeries` (counting the new series of pending batches);
    /// batches of existing series always pass. Called for every batch, in commit order.
    ///
    /// While the series tracked, the pending ones and the cells of the batches admitted unchecked leave room for every
    /// cell of this batch to be a new series, the batch passes without a lookup of each of its series in the windows
    /// (at 1,000 series those lookups were ~3 % of the service's CPU; docs/performance.md): the check could not refuse
    /// it. Otherwise the batches admitted unchecked and not yet settled have their new series made pending first, so
    /// that the check counts them exactly as it would have.
    func admitSeries(of delta: BatchDelta, in state: LiveState, maxSeries: Int) throws(SeriesLimitExceeded) {
        guard delta.eventCount > 0 else { return }
        try pending.withLock { pending throws(SeriesLimitExceeded) in
            try state.withWindows { windows throws(SeriesLimitExceeded) in
                let bound = delta.cells.count
                if windows.seriesCount + pending.series.count + pending.uncheckedSeriesBound + bound <= maxSeries {
                    pending.admittedSeries.append((delta.eventCount, delta.cells))
                    pending.uncheckedSeriesBound += bound
                    return
                }
                if pending.uncheckedSeriesBound > 0 {
                    for index in pending.admittedSeries.indices {
                        guard let cells = pending.admittedSeries[index].unchecked else { continue }
                        for cell in cells.keys where !windows.contains(cell.series) { pending.series.insert(cell.series) }
                        pending.admittedSeries[index].unchecked = nil
                    }
                    pending.uncheckedSeriesBound = 0
                }
                // Usually every series exists already: no set is built then.
                var new: [SeriesKey] = []
                for cell in delta.cells.keys
                where !windows.contains(cell.series) && !pending.series.contains(cell.series) && !new.contains(cell.series) {
                    new.append(cell.series)
                }
                if !new.isEmpty {
                    let count = windows.seriesCount + pending.series.count(where: { !windows.contains($0) })
                    if count + new.count > maxSeries {
                        state.counters.limits.recordSeriesLimitRejection()
                        throw SeriesLimitExceeded(maxSeries: maxSeries)
                    }
                    pending.series.formUnion(new)
                }
                pending.admittedSeries.append((delta.eventCount, nil))
            }
        }
    }

    /// Applies the per-series client cap to the batch's client cells (clients beyond it become `other`), counting the
    /// clients of pending batches as known. Called for every batch, in commit order.
    ///
    /// While every caller name seen since start (tracked, pending or in this batch) fits under the cap, no series can
    /// reach it: the cells pass unchecked, without a lookup of each (series, client) pair in the live state (at 1,000
    /// series and 7 callers those lookups were 6–8 % of the service's CPU; docs/performance.md). The first batch that
    /// brings more callers than that ends this for good: the batches admitted unchecked and not yet settled become
    /// pending admissions first, so that the cap counts their clients as it would have.
    func admitClients(of delta: inout BatchDelta, in state: LiveState) {
        pending.withLock { pending in
            if var callers = pending.callers {
                for name in delta.clientNames where !callers.contains(name) { callers.insert(name) }
                if callers.count <= maxClientsPerSeries {
                    pending.callers = callers
                    if delta.eventCount > 0 { pending.unchecked.append((delta.eventCount, delta)) }
                    return
                }
                pending.callers = nil
                for unchecked in pending.unchecked { admit(unchecked.batch.clientCells, in: state, pending: &pending) }
                pending.unchecked = []
            }
            if !delta.clientSlots.isEmpty { delta.clientCells = admit(delta.clientCells, in: state, pending: &pending) }
        }
    }

    /// The cap applied to `cells` against the live state and `pending`, whose clients it extends with those admitted.
    @discardableResult
    private func admit(
        _ cells: BatchDelta.ClientCells, in state: LiveState, pending: inout Pending
    ) -> BatchDelta.ClientCells {
        let clients = pending.clients
        let (resolved, admitted) = state.withClients { $0.resolveCells(cells, pending: clients) }
        for (series, names) in admitted { pending.clients[series, default: []].formUnion(names) }
        return resolved
    }

    /// A group was applied to the live state, or rolled back: its admissions are no longer pending.
    func settle(_ group: BatchDelta) {
        pending.withLock { pending in
            // Groups settle in commit order (a failed group and the one prepared on top of it together), so the
            // batches admitted unchecked that it holds are the oldest ones.
            var events = group.eventCount
            while events > 0, let batch = pending.unchecked.popFirst() { events -= batch.events }
            events = group.eventCount
            while events > 0, let batch = pending.admittedSeries.popFirst() {
                events -= batch.events
                pending.uncheckedSeriesBound -= batch.unchecked?.count ?? 0
            }
            if !pending.series.isEmpty {
                for cell in group.cells.keys { pending.series.remove(cell.series) }
            }
            if !pending.clients.isEmpty {
                for slot in group.clientSlots.keys {
                    let (series, client) = group.names(of: slot)
                    pending.clients[series]?.remove(client.name)
                    if pending.clients[series]?.isEmpty == true { pending.clients[series] = nil }
                }
            }
        }
    }
}

/// A batch refused because it would create a series beyond `limits.max_series`.
struct SeriesLimitExceeded: Error {
    var maxSeries: Int

    var apiError: APIError {
        APIError(
            .tooManyRequests, code: "series_limit",
            message: "this batch would create a new series beyond limits.max_series (\(maxSeries)); nothing was stored",
            retryAfter: 60)
    }
}
