import DedupVitalsCore

/// The Alertmanager webhook body, version "4" (docs/reference/webhooks.md): Alertmanager receivers work unchanged.
public struct WebhookPayload: Sendable, Equatable, Encodable {
    /// One alert of the notification.
    public struct Alert: Sendable, Equatable, Encodable {
        /// `firing` or `resolved`.
        public var status: String
        public var labels: [String: String]
        public var annotations: [String: String]
        public var startsAt: String
        /// `0001-01-01T00:00:00Z` while firing.
        public var endsAt: String
        public var generatorURL: String
        public var fingerprint: String

        /// The alert for an instance (firing or resolved).
        public init(_ instance: AlertInstance, generatorURL: String) {
            status = instance.state == .resolved ? "resolved" : "firing"
            labels = instance.labels
            annotations = instance.annotations
            startsAt = RFC3339.format(milliseconds: instance.startsAtMs ?? instance.activeAtMs)
            endsAt =
                instance.state == .resolved
                ? RFC3339.format(milliseconds: instance.endsAtMs ?? 0) : WebhookPayload.zeroTime
            self.generatorURL = generatorURL
            fingerprint = instance.fingerprint
        }
    }

    /// Go's zero time, Alertmanager's `endsAt` of a firing alert.
    public static let zeroTime = "0001-01-01T00:00:00Z"

    public var receiver: String
    /// `firing` when any alert fires, else `resolved`.
    public var status: String
    public var alerts: [Alert]
    public var groupLabels: [String: String]
    public var commonLabels: [String: String]
    public var commonAnnotations: [String: String]
    public var externalURL: String
    public var version = "4"
    public var groupKey: String
    public var truncatedAlerts = 0

    /// At most this many alerts go into one notification; the rest are counted in `truncatedAlerts`.
    public static let maxAlerts = 1000

    /// A notification of the group `alertname` to `receiver`.
    public init(receiver: String, alertname: String, alerts allAlerts: [Alert], externalURL: String, maxAlerts: Int = maxAlerts) {
        self.receiver = receiver
        let alerts = Array(allAlerts.prefix(maxAlerts))
        self.alerts = alerts
        truncatedAlerts = allAlerts.count - alerts.count
        status = allAlerts.contains { $0.status == "firing" } ? "firing" : "resolved"
        groupLabels = ["alertname": alertname]
        commonLabels = Self.common(alerts.map(\.labels))
        commonAnnotations = Self.common(alerts.map(\.annotations))
        self.externalURL = externalURL
        groupKey = Self.groupKey(alertname: alertname)
    }

    /// The stable key of a group, in Alertmanager's form for a root route grouping by alertname.
    public static func groupKey(alertname: String) -> String {
        let escaped = alertname.replacingOccurrences("\\", "\\\\").replacingOccurrences("\"", "\\\"")
        return "{}:{alertname=\"\(escaped)\"}"
    }

    /// The entries every map has with the same value.
    static func common(_ maps: [[String: String]]) -> [String: String] {
        guard var result = maps.first else { return [:] }
        for map in maps.dropFirst() {
            result = result.filter { map[$0.key] == $0.value }
        }
        return result
    }
}

extension String {
    /// Foundation-free replacement of every occurrence of `target`.
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            out += rest[..<range.lowerBound]
            out += replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}
