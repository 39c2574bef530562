import DedupVitalsCore
import HTTPTypes
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
    }

    private let pending = Mutex(Pending())

    /// Refuses a batch that would create series beyond `maxSeries` (counting the new series of pending batches);
    /// batches of existing series always pass.
    func admitSeries(of delta: BatchDelta, in state: LiveState, maxSeries: Int) throws(SeriesLimitExceeded) {
        try pending.withLock { pending throws(SeriesLimitExceeded) in
            try state.withWindows { windows throws(SeriesLimitExceeded) in
                // Usually every series exists already: no set is built then.
                var new: [SeriesKey] = []
                for cell in delta.cells.keys
                where !windows.contains(cell.series) && !pending.series.contains(cell.series) && !new.contains(cell.series) {
                    new.append(cell.series)
                }
                guard !new.isEmpty else { return }
                let count = windows.seriesCount + pending.series.count(where: { !windows.contains($0) })
                if count + new.count > maxSeries {
                    state.counters.limits.recordSeriesLimitRejection()
                    throw SeriesLimitExceeded(maxSeries: maxSeries)
                }
                pending.series.formUnion(new)
            }
        }
    }

    /// The batch's client cells with the per-series client cap applied (clients beyond it become `other`), counting
    /// the clients of pending batches as known.
    func admitClients(
        _ cells: [BatchDelta.ClientCell: OutcomeCounts], in state: LiveState
    ) -> [BatchDelta.ClientCell: OutcomeCounts] {
        pending.withLock { pending in
            let (resolved, admitted) = state.withClients { $0.resolveCells(cells, pending: pending.clients) }
            for (series, names) in admitted { pending.clients[series, default: []].formUnion(names) }
            return resolved
        }
    }

    /// A group was applied to the live state, or rolled back: its admissions are no longer pending.
    func settle(_ group: BatchDelta) {
        pending.withLock { pending in
            if !pending.series.isEmpty {
                for cell in group.cells.keys { pending.series.remove(cell.series) }
            }
            if !pending.clients.isEmpty {
                for cell in group.clientCells.keys {
                    pending.clients[cell.series]?.remove(cell.client)
                    if pending.clients[cell.series]?.isEmpty == true { pending.clients[cell.series] = nil }
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
