import DedupVitalsCore

/// The signals of the live rolling windows.
///
/// Window counts come from ``RollingWindows/snapshot(windows:nowMs:)``. `staleInFlightKeys` and `doubleExecutions`
/// are supplied by the key-forensics module (it tracks keys); until it is wired in they are 0 here, so the
/// `stale_in_flight` and `double_execution` rules are evaluated but cannot fire.
struct LiveSignalSource: AlertSignalSource {
    let state: LiveState

    func signals(windows: [PromDuration], nowMs: Int64) -> [SeriesSignals] {
        let snapshot = state.withWindows { $0.snapshot(windows: windows, nowMs: nowMs) }
        return snapshot.map { item in
            SeriesSignals(
                series: item.series, counts: Dictionary(zip(windows, item.windows), uniquingKeysWith: { first, _ in first }),
                staleInFlightKeys: 0, doubleExecutions: [:])
        }
    }
}
