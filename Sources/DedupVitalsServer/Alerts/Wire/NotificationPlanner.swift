import DedupVitalsCore

/// A notification decided by an evaluation, before it is encoded and queued.
public struct PlannedNotification: Sendable, Equatable {
    public enum Body: Sendable, Equatable {
        /// An Alertmanager webhook v4 body for a `webhook` receiver.
        case webhook(WebhookPayload)
        /// The alerts posted to an `alertmanager` receiver.
        case alertmanager([AlertmanagerAlert])
    }

    public var receiver: String
    public var body: Body

    /// Whether the notification supersedes a notification of the same receiver that is still waiting: true for
    /// Alertmanager receivers, whose every post carries the whole current state.
    public var replacesPending: Bool {
        if case .alertmanager = body { return true }
        return false
    }
}

/// Decides which notifications an evaluation causes (pure).
///
/// Webhook receivers get one notification per alert name (like Alertmanager's `group_by: [alertname]`) whenever an
/// instance of that name starts firing, resolves (receivers with `send_resolved`), or is due for a repeat. The
/// notification carries every firing instance of the name plus those that resolved at this evaluation.
/// Alertmanager receivers get every firing and recently resolved instance, as Prometheus sends them.
public enum NotificationPlanner {
    /// Notifications for `webhook` receivers.
    public static func webhookNotifications(
        _ evaluation: AlertEvaluation, receivers: [ServiceConfig.Receiver], externalURL: String
    ) -> [PlannedNotification] {
        let byKey = Dictionary(uniqueKeysWithValues: evaluation.instances.map { ($0.key, $0) })
        let names = Set(evaluation.transitions.map(\.key.rule)).sorted()
        var result: [PlannedNotification] = []
        for name in names {
            let transitions = evaluation.transitions.filter { $0.key.rule == name }
            let firing = evaluation.instances.filter { $0.key.rule == name && $0.state == .firing }
            let resolved = transitions.filter { $0.reason == .resolved }.compactMap { byKey[$0.key] }
            for receiver in receivers where receiver.kind == .webhook {
                let triggered = transitions.contains { $0.reason != .resolved || receiver.sendResolved }
                let alerts = firing + (receiver.sendResolved ? resolved : [])
                guard triggered, !alerts.isEmpty else { continue }
                let payload = WebhookPayload(
                    receiver: receiver.name, alertname: name,
                    alerts: alerts.map { WebhookPayload.Alert($0, generatorURL: generatorURL(externalURL)) },
                    externalURL: externalURL)
                result.append(PlannedNotification(receiver: receiver.name, body: .webhook(payload)))
            }
        }
        return result
    }

    /// Notifications for `alertmanager` receivers: every firing and resolved instance, sent when something changed
    /// or when `resendDue` (Prometheus re-sends every minute). Firing alerts expire `validForMs` after `nowMs`.
    public static func alertmanagerNotifications(
        _ evaluation: AlertEvaluation, receivers: [ServiceConfig.Receiver], nowMs: Int64, validForMs: Int64,
        resendDue: Bool, externalURL: String
    ) -> [PlannedNotification] {
        guard resendDue || !evaluation.transitions.isEmpty else { return [] }
        let alerts = evaluation.instances.filter { $0.state != .pending }.map {
            AlertmanagerAlert($0, nowMs: nowMs, validForMs: validForMs, generatorURL: generatorURL(externalURL))
        }
        guard !alerts.isEmpty else { return [] }
        return receivers.filter { $0.kind == .alertmanager }.map {
            PlannedNotification(receiver: $0.name, body: .alertmanager(alerts))
        }
    }

    /// The link from an alert back to its source.
    public static func generatorURL(_ externalURL: String) -> String { externalURL + "/v1/alerts" }
}
