import DedupVitalsCore

/// One alert as Prometheus posts it to Alertmanager's `POST /api/v2/alerts`.
public struct AlertmanagerAlert: Sendable, Equatable, Encodable {
    public var labels: [String: String]
    public var annotations: [String: String]
    public var startsAt: String
    /// In the future while firing (Alertmanager resolves the alert by itself if no resend arrives before it);
    /// the resolve time once resolved.
    public var endsAt: String
    public var generatorURL: String

    /// The alert of an instance sent at `nowMs`; a firing alert expires `validForMs` later unless re-sent.
    public init(_ instance: AlertInstance, nowMs: Int64, validForMs: Int64, generatorURL: String) {
        labels = instance.labels
        annotations = instance.annotations
        startsAt = RFC3339.format(milliseconds: instance.startsAtMs ?? instance.activeAtMs)
        endsAt = RFC3339.format(milliseconds: instance.state == .resolved ? instance.endsAtMs ?? nowMs : nowMs + validForMs)
        self.generatorURL = generatorURL
    }
}
