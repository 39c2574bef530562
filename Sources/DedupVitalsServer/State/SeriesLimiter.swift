import DedupVitalsCore
import Foundation

/// Enforces `limits.max_series`: a batch that would create series beyond the limit is refused whole; batches of
/// existing series always pass.
///
/// It is the admission gate of ``GroupCommitter``: it runs on the single writer, for each group just before its
/// transaction, with the batches in commit order. The live windows change only on that writer (after a commit) or
/// shrink (pruning), so counting them there plus the series admitted earlier in the same group cannot overshoot.
struct SeriesLimiter: Sendable {
    let maxSeries: Int
    let state: LiveState

    /// For each delta in commit order: nil when admitted, or the error that refuses it.
    func admit(_ deltas: [BatchDelta]) -> [(any Error)?] {
        state.withWindows { windows in
            var count = windows.seriesCount
            var admitted = Set<SeriesKey>()
            var verdicts: [(any Error)?] = []
            for delta in deltas {
                var new: [SeriesKey] = []
                for series in delta.series where windows.series[series] == nil && !admitted.contains(series) {
                    new.append(series)
                }
                if !new.isEmpty, count + new.count > maxSeries {
                    state.counters.limits.recordSeriesLimitRejection()
                    verdicts.append(SeriesLimitExceeded(maxSeries: maxSeries))
                } else {
                    count += new.count
                    admitted.formUnion(new)
                    verdicts.append(nil)
                }
            }
            return verdicts
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
