/// Everything the rule evaluator knows about one series at one evaluation.
///
/// The window counts come from ``RollingWindows/snapshot(windows:nowMs:)``; the stale in-flight gauge and the double
/// executions come from the key-forensics module.
public struct SeriesSignals: Sendable, Equatable {
    public var series: SeriesKey
    /// Outcome counts per window (every window a loaded rule reads).
    public var counts: [PromDuration: OutcomeCounts]
    /// Keys with a `miss` and no `completed`, older than the stale threshold, right now.
    public var staleInFlightKeys: Int64
    /// Double executions counted inside each window.
    public var doubleExecutions: [PromDuration: Int64]
    /// The latest double execution that carried trace context (any time): double-execution alerts name its trace.
    public var latestDoubleExecution: TracedMoment?

    public init(
        series: SeriesKey, counts: [PromDuration: OutcomeCounts], staleInFlightKeys: Int64 = 0,
        doubleExecutions: [PromDuration: Int64] = [:], latestDoubleExecution: TracedMoment? = nil
    ) {
        self.series = series
        self.counts = counts
        self.staleInFlightKeys = staleInFlightKeys
        self.doubleExecutions = doubleExecutions
        self.latestDoubleExecution = latestDoubleExecution
    }

    /// The counts in `window` (zero when the window was not measured).
    public func counts(in window: PromDuration) -> OutcomeCounts { counts[window] ?? .zero }

    /// The double executions in `window` (zero when not measured).
    public func doubleExecutions(in window: PromDuration) -> Int64 { doubleExecutions[window] ?? 0 }
}

/// Supplies the per-series signals the alert rules are evaluated over.
public protocol AlertSignalSource: Sendable {
    /// The signals of every known series, measured over `windows` at `nowMs`.
    func signals(windows: [PromDuration], nowMs: Int64) -> [SeriesSignals]
}
