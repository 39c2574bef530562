/// What an alert rule measures (docs/reference/alert-rules.md#kinds).
public enum AlertRuleKind: String, Sendable, CaseIterable, Codable {
    /// (hit + in_flight) / attempts in the rule window.
    case duplicateRatio = "duplicate_ratio"
    /// in_flight / attempts in the rule window.
    case inFlightRatio = "in_flight_ratio"
    /// mismatch / attempts in the rule window.
    case mismatchRatio = "mismatch_ratio"
    /// The current count of stale in-flight keys (a gauge; the window only scopes `min_attempts`).
    case staleInFlight = "stale_in_flight"
    /// Double executions (a second `miss` for a key inside the dedup window) counted in the rule window.
    case doubleExecution = "double_execution"

    /// Whether the value is a ratio of attempts (and so may have a `baseline`).
    public var isRatio: Bool {
        switch self {
        case .duplicateRatio, .inFlightRatio, .mismatchRatio: true
        case .staleInFlight, .doubleExecution: false
        }
    }

    /// The ratio of this kind in `counts`; nil for the count kinds.
    public func ratio(of counts: OutcomeCounts) -> Double? {
        switch self {
        case .duplicateRatio: counts.duplicateRatio
        case .inFlightRatio: counts.inFlightRatio
        case .mismatchRatio: counts.mismatchRatio
        case .staleInFlight, .doubleExecution: nil
        }
    }
}
