import DedupVitalsCore
import Foundation
import Synchronization

/// Enforces `limits.max_series`: a batch that would create series beyond the limit is refused whole; batches of
/// existing series always pass.
///
/// It is the admission gate of ``GroupCommitter``: it runs for each batch in commit order, under the committer's
/// lock. The live windows grow only when a group is applied after its commit, so the new series of batches admitted
/// but not yet committed are kept aside and count as existing too (until ``settle(_:)``). Counting those and the
/// windows cannot overshoot.
final class SeriesLimiter: Sendable {
    let maxSeries: Int
    let state: LiveState
    /// New series of admitted batches not yet committed or failed.
    private let pending = Mutex<Set<SeriesKey>>([])

    init(maxSeries: Int, state: LiveState) {
        self.maxSeries = maxSeries
        self.state = state
    }

    /// Nil when the batch is admitted, or the error that refuses it.
    func admit(_ delta: BatchDelta) -> (any Error)? {
        pending.withLock { pending in
            state.withWindows { windows -> (any Error)? in
                // Usually every series exists already: no set is built then.
                var new: [SeriesKey] = []
                for cell in delta.cells.keys
                where windows.series[cell.series] == nil && !pending.contains(cell.series) && !new.contains(cell.series) {
                    new.append(cell.series)
                }
                guard !new.isEmpty else { return nil }
                let count = windows.seriesCount + pending.count(where: { windows.series[$0] == nil })
                if count + new.count > maxSeries {
                    state.counters.limits.recordSeriesLimitRejection()
                    return SeriesLimitExceeded(maxSeries: maxSeries)
                }
                pending.formUnion(new)
                return nil
            }
        }
    }

    /// A group was committed (its series are in the windows now) or failed.
    func settle(_ delta: BatchDelta) {
        pending.withLock { pending in
            guard !pending.isEmpty else { return }
            for cell in delta.cells.keys { pending.remove(cell.series) }
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
