import DedupVitalsCore
import DedupVitalsStorage
import Foundation
import Logging
import Synchronization

/// Evaluates the rules once per call: runs the pure ``AlertEvaluation``, plans notifications, and stores the changed
/// instances together with their outbox messages in one transaction. The in-memory state only moves on once the
/// transaction committed, so a failed write is simply retried by the next evaluation.
final class AlertEvaluator: Sendable {
    private struct State {
        /// nil until loaded from the database (at the first evaluation).
        var instances: [AlertInstance]?
        var lastAlertmanagerSendMs: Int64?
    }

    /// Rules, receivers and intervals are read at every evaluation: a reload takes effect at the next one. Instances
    /// are keyed by rule name, so those of rules that stay keep their state (a firing alert is not notified again);
    /// those of removed rules resolve (``AlertEvaluation``).
    let live: LiveConfiguration
    let store: DedupStore
    let alerting: AlertingState
    let source: any AlertSignalSource
    let logger: Logger
    let errors: InternalErrors
    private let state = Mutex(State())

    /// Prometheus re-sends active alerts to Alertmanager every minute.
    static let alertmanagerResendMs: Int64 = 60_000

    init(
        live: LiveConfiguration, store: DedupStore, alerting: AlertingState, source: any AlertSignalSource, logger: Logger,
        errors: InternalErrors = InternalErrors()
    ) {
        self.live = live
        self.errors = errors
        self.store = store
        self.alerting = alerting
        self.source = source
        self.logger = logger
    }

    /// Every window `rules` read, each once.
    static func windows(of rules: [AlertRule]) -> [PromDuration] {
        var windows: [PromDuration] = []
        for rule in rules { for window in rule.windows where !windows.contains(window) { windows.append(window) } }
        return windows
    }

    /// Loads the stored instances (state recovered after a restart) and publishes them.
    func recover() throws(StorageError) -> [AlertInstance] {
        if let instances = state.withLock({ $0.instances }) { return instances }
        let instances = try store.loadAlertInstances()
        state.withLock { $0.instances = instances }
        alerting.publish(instances)
        logger.info("alert state recovered", metadata: ["instances": "\(instances.count)"])
        return instances
    }

    /// One evaluation at `nowMs`. Returns how many messages were queued.
    @discardableResult
    func evaluate(nowMs: Int64) throws(StorageError) -> Int {
        let previous = try recover()
        let running = live.current
        let (rules, receivers) = (running.rules, running.config.receivers)
        let repeatIntervalMs = running.config.repeatInterval.milliseconds
        let evaluationIntervalMs = running.config.evaluationInterval.milliseconds
        let lastAlertmanagerSend = state.withLock { $0.lastAlertmanagerSendMs }
        let signals = source.signals(windows: Self.windows(of: rules), nowMs: nowMs)
        let evaluation = AlertEvaluation.evaluate(
            rules: rules, signals: signals, previous: previous, nowMs: nowMs, repeatIntervalMs: repeatIntervalMs)
        let externalURL = alerting.externalURL
        let resendDue = lastAlertmanagerSend.map { nowMs - $0 >= Self.alertmanagerResendMs } ?? true
        var planned = NotificationPlanner.webhookNotifications(evaluation, receivers: receivers, externalURL: externalURL)
        let toAlertmanager = NotificationPlanner.alertmanagerNotifications(
            evaluation, receivers: receivers, nowMs: nowMs,
            validForMs: 4 * max(evaluationIntervalMs, Self.alertmanagerResendMs), resendDue: resendDue, externalURL: externalURL)
        planned += toAlertmanager
        let messages = planned.compactMap { notification -> (OutboxMessage, replacesPending: Bool)? in
            let body: [UInt8]
            do {
                body = try Self.encode(notification.body)
            } catch {
                // Not queued: an empty or partial body would be signed and delivered as if it were the alert.
                errors.record(
                    .webhookEncode, "notification not queued: its body could not be encoded", error: error, logger: logger,
                    metadata: ["receiver": "\(notification.receiver)"])
                return nil
            }
            return (
                OutboxMessage(
                    id: Self.newMessageID(), receiver: notification.receiver, body: body, nextAttemptMs: nowMs, createdMs: nowMs),
                replacesPending: notification.replacesPending
            )
        }
        let before = Dictionary(uniqueKeysWithValues: previous.map { ($0.key, $0) })
        let changed = evaluation.instances.filter { before[$0.key] != $0 }
        try store.saveAlertEvaluation(changed: changed, removed: evaluation.removed, messages: messages, nowMs: nowMs)

        state.withLock {
            $0.instances = evaluation.instances
            if !toAlertmanager.isEmpty { $0.lastAlertmanagerSendMs = nowMs }
        }
        alerting.publish(evaluation.instances)
        for transition in evaluation.transitions {
            logger.info(
                "alert \(transition.reason.rawValue)",
                metadata: [
                    "alertname": "\(transition.key.rule)", "service": "\(transition.key.series.service)",
                    "operation": "\(transition.key.series.operation)",
                ])
        }
        for message in messages {
            logger.debug("notification queued", metadata: ["receiver": "\(message.0.receiver)", "webhook_id": "\(message.0.id)"])
        }
        return messages.count
    }

    /// A Standard Webhooks message id: `msg_` and 32 random hex digits.
    static func newMessageID() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        func hex(_ value: UInt64) -> String {
            let text = String(value, radix: 16)
            return String(repeating: "0", count: 16 - text.count) + text
        }
        return "msg_" + hex(high) + hex(low)
    }

    static func encode(_ body: PlannedNotification.Body) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data =
            switch body {
            case .webhook(let payload): try encoder.encode(payload)
            case .alertmanager(let alerts): try encoder.encode(alerts)
            }
        return [UInt8](data)
    }
}
