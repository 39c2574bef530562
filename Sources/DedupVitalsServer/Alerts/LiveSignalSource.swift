import DedupVitalsCore

/// The signals of the live state: window counts from ``RollingWindows/snapshot(windows:nowMs:)``; double executions
/// per window from the same buckets (the key-forensics detectors add them at commit); the stale in-flight key gauge
/// from ``LiveState/staleInFlightKeys(nowMs:)``; the trace of the latest double execution from key forensics.
struct LiveSignalSource: AlertSignalSource {
    let state: LiveState

    func signals(windows: [PromDuration], nowMs: Int64) -> [SeriesSignals] {
        let snapshot = state.withWindows { $0.snapshot(windows: windows, nowMs: nowMs) }
        let stale = state.staleInFlightKeys(nowMs: nowMs)
        let traced = state.withForensics { $0.figures(of: snapshot).doubleExecutionExemplars }
        return zip(snapshot, traced).map { item, latest in
            SeriesSignals(
                series: item.series,
                counts: Dictionary(zip(windows, item.windows), uniquingKeysWith: { first, _ in first }),
                staleInFlightKeys: Int64(stale[item.series] ?? 0),
                doubleExecutions: Dictionary(
                    zip(windows, item.windows.map(\.doubleExecutions)), uniquingKeysWith: { first, _ in first }),
                latestDoubleExecution: latest)
        }
    }
}
