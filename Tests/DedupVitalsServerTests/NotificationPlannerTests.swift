import DedupVitalsCore
import Testing

@testable import DedupVitalsServer

/// Which notifications an evaluation causes, and their Alertmanager-webhook wire shape.
@Suite struct NotificationPlannerTests {
    let refund = SeriesKey(service: "payments", operation: "refund")
    let ticket = SeriesKey(service: "tickets", operation: "create_ticket")
    let t0: Int64 = 1_800_000_000_000
    let spike = OutcomeCounts(miss: 20, hit: 80)
    let calm = OutcomeCounts(miss: 95, hit: 5)
    let rule = AlertRule(name: "Spike", kind: .duplicateRatio, window: .minutes(5), above: 0.1, labels: ["severity": "warning"])

    func signals(_ counts: OutcomeCounts, series: SeriesKey) -> SeriesSignals {
        SeriesSignals(series: series, counts: [.minutes(5): counts], staleInFlightKeys: 0, doubleExecutions: [:])
    }

    func run(
        _ rules: [AlertRule], _ signals: [SeriesSignals], _ previous: [AlertInstance] = [], at nowMs: Int64? = nil
    ) -> AlertEvaluation {
        AlertEvaluation.evaluate(
            rules: rules, signals: signals, previous: previous, nowMs: nowMs ?? t0, repeatIntervalMs: 4 * 3_600_000)
    }

    @Test func webhookNotificationsGroupByAlertnameAndHonourSendResolved() {
        let both = [signals(spike, series: refund), signals(spike, series: ticket)]
        let fired = run([rule], both)
        let receivers = [
            ServiceConfig.Receiver(name: "all", url: "http://127.0.0.1:1/a"),
            ServiceConfig.Receiver(name: "firing-only", url: "http://127.0.0.1:1/b", sendResolved: false),
        ]
        let planned = NotificationPlanner.webhookNotifications(fired, receivers: receivers, externalURL: "http://x")
        #expect(planned.count == 2)
        guard case .webhook(let payload) = planned[0].body else {
            Issue.record("not a webhook body")
            return
        }
        #expect(payload.alerts.count == 2)
        #expect(payload.groupLabels == ["alertname": "Spike"])
        #expect(payload.commonLabels == ["alertname": "Spike", "severity": "warning"])
        #expect(payload.status == "firing")

        // One of the two resolves: "all" gets the firing one and the resolved one; "firing-only" gets nothing.
        let partly = run(
            [rule], [signals(spike, series: refund), signals(calm, series: ticket)], fired.instances, at: t0 + 15_000)
        let update = NotificationPlanner.webhookNotifications(partly, receivers: receivers, externalURL: "http://x")
        #expect(update.map(\.receiver) == ["all"])
        guard case .webhook(let body) = update.first?.body else {
            Issue.record("not a webhook body")
            return
        }
        #expect(body.alerts.map(\.status).sorted() == ["firing", "resolved"])
        #expect(body.groupKey == payload.groupKey)
    }
}
