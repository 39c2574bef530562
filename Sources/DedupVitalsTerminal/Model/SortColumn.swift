/// The column the series table is sorted by; `s` cycles through them.
public enum SortColumn: Int, Sendable, CaseIterable {
    case name, rate, duplicateRatio, inFlightKeys, staleKeys, doubleExecutions

    /// The label shown in the table's title.
    public var label: String {
        switch self {
        case .name: "name"
        case .rate: "attempts/s"
        case .duplicateRatio: "dup ratio"
        case .inFlightKeys: "in-flight keys"
        case .staleKeys: "stale keys"
        case .doubleExecutions: "double executions"
        }
    }

    /// The next column in the cycle.
    public var next: SortColumn { SortColumn(rawValue: (rawValue + 1) % SortColumn.allCases.count)! }

    /// Whether `lhs` goes before `rhs`: names ascending, figures descending (worst first), ties by name.
    func orders(_ lhs: SeriesSummary, before rhs: SeriesSummary, in state: DashboardState) -> Bool {
        let byName = (lhs.service, lhs.operation) < (rhs.service, rhs.operation)
        let (left, right) = (figure(lhs, state), figure(rhs, state))
        return left == right ? byName : left > right
    }

    private func figure(_ series: SeriesSummary, _ state: DashboardState) -> Double {
        switch self {
        case .name: 0
        case .rate: state.perSecond(series.id, \.attempts) ?? 0
        case .duplicateRatio: state.primaryWindow.flatMap { series.windows[$0]?.duplicateRatio } ?? 0
        case .inFlightKeys: Double(series.inFlightKeys ?? -1)
        case .staleKeys: Double(series.staleInFlightKeys ?? -1)
        case .doubleExecutions: Double(series.doubleExecutions ?? -1)
        }
    }
}
