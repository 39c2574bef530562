/// One alert of `/v1/alerts` (or of the `alerts` field of `/v1/summary`).
public struct AlertItem: Decodable, Sendable, Equatable {
    public var labels: [String: String]
    public var annotations: [String: String]
    /// `firing`, `pending`, `resolved`, ...
    public var state: String
    /// RFC 3339.
    public var startsAt: String?
    /// RFC 3339; `0001-01-01T00:00:00Z` while firing.
    public var endsAt: String?
    public var fingerprint: String?

    public init(
        labels: [String: String], annotations: [String: String] = [:], state: String, startsAt: String? = nil,
        endsAt: String? = nil, fingerprint: String? = nil
    ) {
        self.labels = labels
        self.annotations = annotations
        self.state = state
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.fingerprint = fingerprint
    }

    enum CodingKeys: String, CodingKey {
        case labels, annotations, state, status, startsAt, endsAt, fingerprint
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        labels = try container.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        annotations = (try? container.decodeIfPresent([String: String].self, forKey: .annotations)) ?? [:]
        // `state`, or Alertmanager's `status` (a string, or an object with a `state`).
        if let state = try? container.decodeIfPresent(String.self, forKey: .state) {
            self.state = state
        } else if let status = try? container.decodeIfPresent(String.self, forKey: .status) {
            self.state = status
        } else {
            self.state = (try? container.decodeIfPresent([String: String].self, forKey: .status))??["state"] ?? "unknown"
        }
        startsAt = try? container.decodeIfPresent(String.self, forKey: .startsAt)
        endsAt = try? container.decodeIfPresent(String.self, forKey: .endsAt)
        fingerprint = try? container.decodeIfPresent(String.self, forKey: .fingerprint)
    }

    public var name: String { labels["alertname"] ?? "alert" }
    public var severity: String { labels["severity"] ?? "-" }
    public var summary: String { annotations["summary"] ?? annotations["description"] ?? "" }
    /// `service/operation` when the alert names a series.
    public var seriesID: String? {
        guard let service = labels["service"] else { return nil }
        return labels["operation"].map { "\(service)/\($0)" } ?? service
    }
    public var isFiring: Bool { state == "firing" || state == "active" }
    public var startsAtMs: Int64? { startsAt.flatMap(Formatting.milliseconds(rfc3339:)) }

    /// Firing first, then pending, then the rest; newest first within each.
    public static func dashboardOrder(_ lhs: AlertItem, _ rhs: AlertItem) -> Bool {
        func rank(_ alert: AlertItem) -> Int { alert.isFiring ? 0 : alert.state == "pending" ? 1 : 2 }
        if rank(lhs) != rank(rhs) { return rank(lhs) < rank(rhs) }
        return (lhs.startsAtMs ?? 0) > (rhs.startsAtMs ?? 0)
    }
}

/// The body of `/v1/alerts`: a bare array, or an object holding the array under `alerts` or `data`.
struct AlertsResponse: Decodable {
    var alerts: [AlertItem]

    enum CodingKeys: String, CodingKey {
        case alerts, data
    }

    init(from decoder: any Decoder) throws {
        if let list = try? decoder.singleValueContainer().decode([AlertItem].self) {
            alerts = list
            return
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        alerts =
            try container.decodeIfPresent([AlertItem].self, forKey: .alerts)
            ?? container.decode([AlertItem].self, forKey: .data)
    }
}
