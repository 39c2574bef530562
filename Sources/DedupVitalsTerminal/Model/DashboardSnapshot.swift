/// Everything one refresh of the dashboard read from the service.
public struct DashboardSnapshot: Sendable, Equatable {
    public var summary: SummaryResponse
    /// nil when the service offers no alerts (neither `/v1/alerts` nor a summary `alerts` field).
    public var alerts: [AlertItem]?
    /// Sparkline history by series id (`service/operation`), oldest point first.
    public var history: [String: [WindowCounts]]
    /// The span the history covers, e.g. `15m`, and its step, e.g. `10s`.
    public var historyWindow: String
    public var historyStep: String
    /// When the refresh finished (ms since the Unix epoch).
    public var fetchedAtMs: Int64

    public init(
        summary: SummaryResponse, alerts: [AlertItem]?, history: [String: [WindowCounts]] = [:],
        historyWindow: String = "15m", historyStep: String = "10s", fetchedAtMs: Int64
    ) {
        self.summary = summary
        self.alerts = alerts
        self.history = history
        self.historyWindow = historyWindow
        self.historyStep = historyStep
        self.fetchedAtMs = fetchedAtMs
    }
}
