import DedupVitalsCore
import DedupVitalsServer

/// Inputs of the rule-evaluation benchmark: the built-in default rules over many series' signals.
enum AlertFixtures {
    static let rules: [AlertRule] = (try? AlertRuleLoader.load(for: ServiceConfig())) ?? []

    /// Signals for `count` series over every window the rules read; one series in `firingEvery` has a duplicate
    /// ratio of 0.5, a stale in-flight key and a double execution (so that it matches the default rules), the others
    /// are healthy.
    static func signals(count: Int, firingEvery: Int = 10) -> [SeriesSignals] {
        let windows = Set(rules.flatMap(\.windows))
        return (0..<count).map { index in
            let unhealthy = index % firingEvery == 0
            let counts = OutcomeCounts(
                miss: 100, hit: unhealthy ? 100 : 1, inFlight: 0, completed: 95, mismatch: unhealthy ? 5 : 0)
            var byWindow: [PromDuration: OutcomeCounts] = [:]
            var doubles: [PromDuration: Int64] = [:]
            for window in windows {
                byWindow[window] = counts
                doubles[window] = unhealthy ? 1 : 0
            }
            return SeriesSignals(
                series: SeriesKey(service: "service\(index / 100)", operation: "op\(index % 100)"), counts: byWindow,
                staleInFlightKeys: unhealthy ? 1 : 0, doubleExecutions: doubles)
        }
    }
}
