import DedupVitalsCore

/// The synthetic traffic patterns of `dedup-vitals simulate` (README.md#dedup-vitals-simulate).
public enum TrafficScenario: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Low duplicate ratio; every miss is later completed.
    case steady
    /// Duplicates and in-flight conflicts ramp up, hold, then recover.
    case retryStorm = "retry-storm"
    /// Some misses never complete: their locks stay in flight.
    case stuckLocks = "stuck-locks"
    /// Some keys miss twice: the action executed twice.
    case doubleExecution = "double-execution"
    /// Retries arrive under a fresh key with the same payload fingerprint.
    case narrowKeys = "narrow-keys"

    public var description: String { rawValue }

    /// One line for `--help`.
    public var summary: String {
        switch self {
        case .steady: "low duplicate ratio, every miss later completed"
        case .retryStorm: "duplicates and in-flight conflicts ramp up, then recover"
        case .stuckLocks: "misses that never complete (stale in-flight keys)"
        case .doubleExecution: "keys that miss twice (double executions)"
        case .narrowKeys: "the same payload fingerprint under a fresh key per retry"
        }
    }

    /// The series the scenario's anomaly hits hardest; the other series carry steady background traffic.
    public var focus: SeriesKey? {
        switch self {
        case .steady: nil
        case .retryStorm: SeriesKey(service: "payments", operation: "refund")
        case .stuckLocks: SeriesKey(service: "tickets", operation: "create_ticket")
        case .doubleExecution: SeriesKey(service: "payments", operation: "capture")
        case .narrowKeys: SeriesKey(service: "agents", operation: "tool.call")
        }
    }
}
