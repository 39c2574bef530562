/// A trace and when its decision happened: an OpenMetrics exemplar's trace id and timestamp, and what an alert says
/// about the latest double execution.
public struct TracedMoment: Sendable, Equatable {
    public var trace: TraceContext
    /// Milliseconds since the Unix epoch.
    public var timeMs: Int64

    public init(trace: TraceContext, timeMs: Int64) {
        self.trace = trace
        self.timeMs = timeMs
    }
}
