import DedupVitalsCore

/// One alert instance in `GET /v1/alerts` and in the `alerts` of `GET /v1/summary`.
struct AlertDocument: Encodable, Sendable {
    var labels: [String: String]
    var annotations: [String: String]
    /// `pending`, `firing` or `resolved`.
    var state: String
    var value: Double
    /// When the condition started to hold.
    var activeAt: String
    /// When it started firing; null while pending.
    var startsAt: String?
    /// When it resolved; null unless resolved.
    var endsAt: String?
    var fingerprint: String
    var generatorURL: String

    init(_ instance: AlertInstance, externalURL: String) {
        labels = instance.labels
        annotations = instance.annotations
        state = instance.state.rawValue
        value = instance.value.isFinite ? instance.value : 0
        activeAt = RFC3339.format(milliseconds: instance.activeAtMs)
        startsAt = instance.startsAtMs.map { RFC3339.format(milliseconds: $0) }
        endsAt = instance.endsAtMs.map { RFC3339.format(milliseconds: $0) }
        fingerprint = instance.fingerprint
        generatorURL = NotificationPlanner.generatorURL(externalURL)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(labels, forKey: .labels)
        try container.encode(annotations, forKey: .annotations)
        try container.encode(state, forKey: .state)
        try container.encode(value, forKey: .value)
        try container.encode(activeAt, forKey: .activeAt)
        try container.encode(startsAt, forKey: .startsAt)
        try container.encode(endsAt, forKey: .endsAt)
        try container.encode(fingerprint, forKey: .fingerprint)
        try container.encode(generatorURL, forKey: .generatorURL)
    }

    enum CodingKeys: String, CodingKey {
        case labels, annotations, state, value, activeAt, startsAt, endsAt, fingerprint, generatorURL
    }
}
