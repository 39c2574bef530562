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
        Self.orders(lhs, figure(lhs, state), before: rhs, figure(rhs, state))
    }

    /// ``orders(_:before:in:)`` with each series' figure already computed.
    static func orders(_ lhs: SeriesSummary, _ left: Double, before rhs: SeriesSummary, _ right: Double) -> Bool {
        left == right ? (lhs.service, lhs.operation) < (rhs.service, rhs.operation) : left > right
    }

    /// The figure the column sorts by (0 for names: ties, ordered by name).
    func figure(_ series: SeriesSummary, _ state: DashboardState) -> Double {
        switch self {
        case .name: 0
        case .rate: state.perSecond(of: series, \.attempts) ?? 0
        case .duplicateRatio: state.primaryWindow.flatMap { series.windows[$0]?.duplicateRatio } ?? 0
        case .inFlightKeys: Double(series.inFlightKeys ?? -1)
        case .staleKeys: Double(series.staleInFlightKeys ?? -1)
        case .doubleExecutions: Double(series.doubleExecutions ?? -1)
        }
    }
}
