import DedupVitalsCore
import Foundation

/// One refresh of the dashboard: the summary, the alerts, and the sparkline history of every series.
public struct DashboardFetcher: Sendable {
    /// The most series whose history is fetched per refresh.
    public static let maxHistorySeries = 200
    public static let historyWindow = "15m"
    public static let historyStep = "10s"

    public let client: ServiceClient
    public let clock: @Sendable () -> Int64

    public init(client: ServiceClient, clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) {
        self.client = client
        self.clock = clock
    }

    /// Reads everything. Fails when the summary cannot be read; missing alerts or history are tolerated.
    public func fetch() async throws(ServiceClientError) -> DashboardSnapshot {
        let summary = try await client.summary()
        async let alertsAnswer = try? client.alerts()
        var history: [String: [WindowCounts]] = [:]
        await withTaskGroup(of: (String, [WindowCounts]?).self) { group in
            for series in summary.series.prefix(Self.maxHistorySeries) {
                group.addTask { [client] in
                    let answer = try? await client.series(
                        service: series.service, operation: series.operation, window: Self.historyWindow, step: Self.historyStep)
                    return (series.id, answer.map { $0.points.map(\.counts) })
                }
            }
            for await (id, points) in group {
                if let points { history[id] = points }
            }
        }
        let fetchedAlerts = await alertsAnswer
        return DashboardSnapshot(
            summary: summary, alerts: fetchedAlerts ?? summary.alerts, history: history,
            historyWindow: Self.historyWindow, historyStep: Self.historyStep, fetchedAtMs: clock())
    }
}
