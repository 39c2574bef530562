/// The state of one alert instance.
public enum AlertState: String, Sendable, Codable, CaseIterable {
    /// The condition holds but not yet for the rule's `for` duration.
    case pending
    case firing
    /// It fired and its condition stopped holding; kept for a while so that `/v1/alerts` shows it.
    case resolved
}

/// Identifies an alert instance: one rule and one series.
public struct AlertInstanceKey: Sendable, Hashable, Comparable {
    public var rule: String
    public var series: SeriesKey

    public init(rule: String, series: SeriesKey) {
        self.rule = rule
        self.series = series
    }

    public static func < (lhs: AlertInstanceKey, rhs: AlertInstanceKey) -> Bool {
        (lhs.rule, lhs.series) < (rhs.rule, rhs.series)
    }
}

/// One (rule, service, operation) alert instance with everything that survives a restart.
public struct AlertInstance: Sendable, Equatable {
    public var key: AlertInstanceKey
    public var state: AlertState
    /// When the condition started to hold (the pending phase began), ms.
    public var activeAtMs: Int64
    /// When it started firing, ms; nil while pending.
    public var startsAtMs: Int64?
    /// When it resolved, ms; nil unless resolved.
    public var endsAtMs: Int64?
    /// When a notification about it was last queued, ms.
    public var lastNotifiedMs: Int64?
    /// The value at the last evaluation where the condition held.
    public var value: Double
    public var labels: [String: String]
    public var annotations: [String: String]

    public init(
        key: AlertInstanceKey, state: AlertState, activeAtMs: Int64, startsAtMs: Int64? = nil, endsAtMs: Int64? = nil,
        lastNotifiedMs: Int64? = nil, value: Double, labels: [String: String], annotations: [String: String]
    ) {
        self.key = key
        self.state = state
        self.activeAtMs = activeAtMs
        self.startsAtMs = startsAtMs
        self.endsAtMs = endsAtMs
        self.lastNotifiedMs = lastNotifiedMs
        self.value = value
        self.labels = labels
        self.annotations = annotations
    }

    /// The Alertmanager fingerprint of the labels (stable for the instance).
    public var fingerprint: String { AlertFingerprint.of(labels) }
    /// The `severity` label, or empty.
    public var severity: String { labels["severity"] ?? "" }
}
