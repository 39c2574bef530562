/// One evaluation of every rule over every series: the pure state machine of docs/reference/alert-rules.md.
///
/// An instance moves inactive → pending → firing → resolved. It becomes pending when its condition first holds,
/// fires once the condition has held for the rule's `for` (at once when `for` is 0), and resolves at the first
/// evaluation where the condition does not hold. A pending instance whose condition stops holding is dropped.
/// Resolved instances are kept for `resolvedRetentionMs` (for `/v1/alerts`); when the condition holds again, a
/// new pending instance replaces the resolved one.
public struct AlertEvaluation: Sendable {
    /// Why a notification is due for an instance.
    public enum Reason: String, Sendable, Equatable {
        /// It started firing.
        case firing
        /// It fires and was last notified `repeat_interval` ago or more.
        case repeatDue
        /// It resolved.
        case resolved
    }

    /// An instance that needs a notification at this evaluation.
    public struct Transition: Sendable, Equatable {
        public var key: AlertInstanceKey
        public var reason: Reason
    }

    /// Every instance after the evaluation (pending, firing and recently resolved), sorted by key.
    public var instances: [AlertInstance]
    /// Instances that need a notification.
    public var transitions: [Transition]
    /// Keys of instances that existed before and are gone now.
    public var removed: [AlertInstanceKey]

    /// How long a resolved instance stays listed (as in Prometheus).
    public static let defaultResolvedRetentionMs: Int64 = 15 * 60_000

    /// Evaluates `rules` over `signals`, starting from the `previous` instances.
    ///
    /// Instances whose rule is no longer loaded, or whose series is gone, count as "condition false".
    public static func evaluate(
        rules: [AlertRule], signals: [SeriesSignals], previous: [AlertInstance], nowMs: Int64, repeatIntervalMs: Int64,
        resolvedRetentionMs: Int64 = defaultResolvedRetentionMs
    ) -> AlertEvaluation {
        var before: [AlertInstanceKey: AlertInstance] = [:]
        for instance in previous { before[instance.key] = instance }
        var after: [AlertInstanceKey: AlertInstance] = [:]
        var transitions: [Transition] = []

        for rule in rules {
            for signal in signals where rule.matches(signal.series) {
                let condition = AlertCondition.evaluate(rule, signal)
                guard condition.holds else { continue }
                let key = AlertInstanceKey(rule: rule.name, series: signal.series)
                let labels = rule.instanceLabels(for: signal.series)
                var instance: AlertInstance
                if let old = before[key], old.state != .resolved {
                    instance = old
                } else {
                    instance = AlertInstance(
                        key: key, state: .pending, activeAtMs: nowMs, value: condition.value, labels: labels, annotations: [:])
                }
                instance.value = condition.value
                instance.labels = labels
                let traceID = rule.kind == .doubleExecution ? signal.latestDoubleExecution?.trace.traceIDHex : nil
                instance.annotations = rule.annotations.mapValues {
                    AnnotationTemplate.render($0, labels: labels, value: condition.value, traceID: traceID ?? "")
                }
                // The request that ran twice, for receivers and for links to a tracing UI (`{{ $trace_id }}`).
                if let traceID, instance.annotations["trace_id"] == nil { instance.annotations["trace_id"] = traceID }
                switch instance.state {
                case .pending where nowMs - instance.activeAtMs >= rule.forDuration.milliseconds:
                    instance.state = .firing
                    instance.startsAtMs = nowMs
                    instance.lastNotifiedMs = nowMs
                    transitions.append(Transition(key: key, reason: .firing))
                case .firing:
                    if let last = instance.lastNotifiedMs, nowMs - last < repeatIntervalMs { break }
                    instance.lastNotifiedMs = nowMs
                    transitions.append(Transition(key: key, reason: .repeatDue))
                default:
                    break
                }
                after[key] = instance
            }
        }

        for (key, old) in before where after[key] == nil {
            switch old.state {
            case .pending:
                continue
            case .firing:
                var resolved = old
                resolved.state = .resolved
                resolved.endsAtMs = nowMs
                resolved.lastNotifiedMs = nowMs
                after[key] = resolved
                transitions.append(Transition(key: key, reason: .resolved))
            case .resolved:
                if nowMs - (old.endsAtMs ?? nowMs) < resolvedRetentionMs { after[key] = old }
            }
        }

        // Notifications go out per alert name and carry every firing instance of it: all of them count as notified,
        // so that the group repeats together after `repeat_interval`.
        let notifiedNames = Set(transitions.map(\.key.rule))
        for (key, instance) in after where instance.state == .firing && notifiedNames.contains(key.rule) {
            after[key]?.lastNotifiedMs = nowMs
        }

        let removed = before.keys.filter { after[$0] == nil }.sorted()
        return AlertEvaluation(
            instances: after.values.sorted { $0.key < $1.key },
            transitions: transitions.sorted { $0.key < $1.key },
            removed: removed)
    }
}
