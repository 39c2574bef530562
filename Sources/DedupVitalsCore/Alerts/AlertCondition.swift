/// The condition of a rule over one series at one evaluation: its value and whether it holds.
public struct AlertCondition: Sendable, Equatable {
    /// The measured value (a ratio, a stale key count or a double-execution count).
    public var value: Double
    public var holds: Bool

    public init(value: Double, holds: Bool) {
        self.value = value
        self.holds = holds
    }

    /// Evaluates `rule` over `signals`. Pure.
    ///
    /// The condition holds when the series passes `match`, has at least `min_attempts` attempts in the window, its
    /// value is above `above`, and, with a baseline, the value is also above `factor` × the baseline value.
    public static func evaluate(_ rule: AlertRule, _ signals: SeriesSignals) -> AlertCondition {
        let counts = signals.counts(in: rule.window)
        let value: Double =
            switch rule.kind {
            case .duplicateRatio, .inFlightRatio, .mismatchRatio: rule.kind.ratio(of: counts) ?? 0
            case .staleInFlight: Double(signals.staleInFlightKeys)
            case .doubleExecution: Double(signals.doubleExecutions(in: rule.window))
            }
        guard rule.matches(signals.series), counts.attempts >= rule.minAttempts, value > rule.above else {
            return AlertCondition(value: value, holds: false)
        }
        if let baseline = rule.baseline, let reference = rule.kind.ratio(of: signals.counts(in: baseline.window)) {
            return AlertCondition(value: value, holds: value > baseline.factor * reference)
        }
        return AlertCondition(value: value, holds: true)
    }
}
