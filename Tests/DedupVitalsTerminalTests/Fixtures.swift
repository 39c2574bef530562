import DedupVitalsTerminal

/// Dashboard states built from realistic data, for render and key tests.
enum Fixtures {
    static let nowMs: Int64 = 1_790_000_000_000
    static let windows = ["1m", "5m", "15m", "1h"]

    /// Counts with `attempts` attempts of which `ratio` are duplicates.
    static func counts(attempts: Int64, ratio: Double) -> WindowCounts {
        let duplicates = Int64((Double(attempts) * ratio).rounded())
        let inFlight = duplicates / 3
        return WindowCounts(
            miss: attempts - duplicates, hit: duplicates - inFlight, inFlight: inFlight, completed: attempts - duplicates)
    }

    static func series(
        _ service: String, _ operation: String, ratio: Double, rate: Int64 = 20, forensics: Bool = false
    ) -> SeriesSummary {
        var windows: [String: WindowCounts] = [:]
        for (index, window) in Self.windows.enumerated() {
            let seconds = Int64([60, 300, 900, 3600][index])
            windows[window] = counts(attempts: rate * seconds, ratio: ratio / Double(index + 1))
        }
        return SeriesSummary(
            service: service, operation: operation, lastSeen: "2026-09-21T12:53:19Z", totals: windows["1h"]!, windows: windows,
            inFlightKeys: forensics ? 12 : nil, staleInFlightKeys: forensics ? 3 : nil, doubleExecutions: forensics ? 1 : nil)
    }

    /// 90 points of 10 s whose duplicate ratio rises towards `peak`.
    static func history(peak: Double, attemptsPerPoint: Int64 = 200) -> [WindowCounts] {
        (0..<90).map { index in counts(attempts: attemptsPerPoint, ratio: peak * Double(index) / 89) }
    }

    static func alert(_ name: String, state: String, severity: String, series: (String, String), ageSeconds: Int64) -> AlertItem {
        AlertItem(
            labels: ["alertname": name, "severity": severity, "service": series.0, "operation": series.1],
            annotations: ["summary": "\(name) on \(series.0)/\(series.1)"], state: state,
            startsAt: Formatting.rfc3339(milliseconds: nowMs - ageSeconds * 1000), fingerprint: "f-\(name)")
    }

    static func state(series: [SeriesSummary], alerts: [AlertItem]? = [], url: String = "http://127.0.0.1:9470") -> DashboardState
    {
        var overall: [String: WindowCounts] = [:]
        for window in windows { overall[window] = series.compactMap { $0.windows[window] }.reduce(.zero, +) }
        var history: [String: [WindowCounts]] = [:]
        for item in series {
            history[item.id] = Self.history(
                peak: item.windows["1m"]?.duplicateRatio ?? 0, attemptsPerPoint: (item.windows["1m"]?.attempts ?? 0) / 6)
        }
        let summary = SummaryResponse(generatedAt: nil, windows: windows, overall: overall, series: series)
        var state = DashboardState(url: url)
        state.apply(DashboardSnapshot(summary: summary, alerts: alerts, history: history, fetchedAtMs: nowMs))
        state.nowMs = nowMs
        return state
    }

    /// A typical screen: four series (one storming), forensics on two, one firing and one resolved alert.
    static var typical: DashboardState {
        state(
            series: [
                series("payments", "refund", ratio: 0.42, rate: 40, forensics: true),
                series("payments", "capture", ratio: 0.03, rate: 30, forensics: true),
                series("tickets", "create_ticket", ratio: 0.08, rate: 12),
                series("agents", "tool.call", ratio: 0.01, rate: 25),
            ],
            alerts: [
                alert(
                    "StaleInFlightKeys", state: "resolved", severity: "warning", series: ("tickets", "create_ticket"),
                    ageSeconds: 3000),
                alert(
                    "DuplicateAttemptSpike", state: "firing", severity: "critical", series: ("payments", "refund"),
                    ageSeconds: 720),
            ])
    }

    /// `count` series named `svc-NN/op`.
    static func many(_ count: Int) -> DashboardState {
        state(series: (0..<count).map { series("svc-" + ($0 < 10 ? "0" : "") + String($0), "op", ratio: 0.01 * Double($0 % 20)) })
    }
}
