/// One alert rule of a rule file (docs/reference/alert-rules.md#format).
///
/// Its instances are per series (service, operation). The value compared with `above` depends on ``kind``.
public struct AlertRule: Sendable, Equatable {
    /// The optional second condition: the value must also exceed `factor` × the same value over a longer window.
    public struct Baseline: Sendable, Equatable {
        public var window: PromDuration
        public var factor: Double
        public init(window: PromDuration, factor: Double) {
            self.window = window
            self.factor = factor
        }
    }

    /// The `alert` name; unique across all loaded rules. Becomes the `alertname` label.
    public var name: String
    public var kind: AlertRuleKind
    /// The window the value (and `min_attempts`) is measured over.
    public var window: PromDuration
    /// Fire when the value is strictly above this.
    public var above: Double
    public var baseline: Baseline?
    /// Series with fewer attempts in `window` are ignored (the condition is false).
    public var minAttempts: Int64
    /// How long the condition must hold before the instance fires (0: at once).
    public var forDuration: PromDuration
    /// Label filter on `service` and `operation`: every entry must equal the series' value.
    public var match: [String: String]
    /// Extra labels of every instance (e.g. `severity`).
    public var labels: [String: String]
    /// Annotation templates (see ``AnnotationTemplate``).
    public var annotations: [String: String]

    public init(
        name: String, kind: AlertRuleKind, window: PromDuration = .minutes(5), above: Double = 0,
        baseline: Baseline? = nil, minAttempts: Int64 = 0, forDuration: PromDuration = .init(milliseconds: 0),
        match: [String: String] = [:], labels: [String: String] = [:], annotations: [String: String] = [:]
    ) {
        self.name = name
        self.kind = kind
        self.window = window
        self.above = above
        self.baseline = baseline
        self.minAttempts = minAttempts
        self.forDuration = forDuration
        self.match = match
        self.labels = labels
        self.annotations = annotations
    }

    /// The labels `match` may filter on.
    public static let matchableLabels: Set<String> = ["service", "operation"]
    /// Labels every instance gets from its rule and series; rule `labels` may not set them.
    public static let reservedLabels: Set<String> = ["alertname", "service", "operation"]

    /// The windows the rule reads: its window and, with a baseline, the baseline window.
    public var windows: [PromDuration] { baseline.map { [window, $0.window] } ?? [window] }

    /// Whether the series passes the `match` filter.
    public func matches(_ series: SeriesKey) -> Bool {
        match.allSatisfy { name, value in
            switch name {
            case "service": series.service == value
            case "operation": series.operation == value
            default: false
            }
        }
    }

    /// The labels of the instance for `series`: the rule labels, then alertname, service and operation.
    public func instanceLabels(for series: SeriesKey) -> [String: String] {
        var result = labels
        result["alertname"] = name
        result["service"] = series.service
        result["operation"] = series.operation
        return result
    }
}
