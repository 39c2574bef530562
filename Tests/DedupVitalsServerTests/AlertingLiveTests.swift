import DedupVitalsCore
import DedupVitalsServer
import DedupVitalsStorage
import Foundation
import Testing

/// Alerting end to end: the real service on a loopback port, a real SQLite file, a live local HTTP receiver.
@Suite("Alerting, live", .serialized)
struct AlertingLiveTests {
    static let secret = "whsec_" + Base64.encode(Array("test-signing-key-0123456789abcdef".utf8))

    static let spikeRule = AlertRule(
        name: "DuplicateAttemptSpike", kind: .duplicateRatio, window: .minutes(1), above: 0.5, minAttempts: 4,
        labels: ["severity": "warning"],
        annotations: ["summary": "{{ $value | humanizePercentage }} duplicates on {{ $labels.service }}/{{ $labels.operation }}"])

    static func config(db: String, receivers: [ServiceConfig.Receiver]) -> ServiceConfig {
        var config = ServiceConfig()
        config.database = db
        config.evaluationInterval = .init(milliseconds: 100)
        config.receivers = receivers
        return config
    }

    static func options(
        rules: [AlertRule] = [spikeRule], receivers: [ServiceConfig.Receiver], initialDelayMs: Int64 = 1000
    ) throws -> AlertingOptions {
        var policy = DeliveryPolicy()
        policy.initialDelayMs = initialDelayMs
        let keys = try ReceiverSecrets.resolve(receivers, environment: ["ONCALL_SECRET": secret], configFile: "test")
        return AlertingOptions(rules: rules, signingKeys: keys, deliveryPolicy: policy, deliveryPollInterval: .milliseconds(20))
    }

    /// 8 of 10 attempts are duplicates.
    static func spike(_ service: TestService, operation: String = "refund") async throws {
        try await service.post("miss", count: 2, operation: operation)
        try await service.post("hit", count: 8, operation: operation)
    }

    static func alertsOf(_ request: TestReceiver.Request) -> [[String: Any]] {
        request.json["alerts"] as? [[String: Any]] ?? []
    }

    @Test func spikeFiresOneSignedNotificationThenOneResolved() async throws {
        let dir = try TemporaryDirectory()
        let receiver = try await TestReceiver.start()
        let clock = TestClock(DedupVitalsService.systemClock())
        let receivers = [ServiceConfig.Receiver(name: "oncall", url: receiver.url, secretEnv: "ONCALL_SECRET")]
        try await TestService.startAlerting(
            config: Self.config(db: dir.file("db.sqlite"), receivers: receivers), clock: clock.read,
            options: try Self.options(receivers: receivers)
        ).scoped { service in

            try await Self.spike(service)
            #expect(await eventually { receiver.requests.count >= 1 })
            try await Task.sleep(for: .milliseconds(600))
            #expect(receiver.requests.count == 1)
            let firing = try #require(receiver.requests.first)
            let timestamp = try #require(Int64(firing.headers["webhook-timestamp"] ?? ""))
            #expect(firing.webhookID.hasPrefix("msg_"))
            #expect(
                WebhookSignature.verify(
                    header: firing.headers["webhook-signature"] ?? "", id: firing.webhookID, timestamp: timestamp,
                    body: firing.body, key: WebhookSignature.key(fromSecret: Self.secret)!))
            #expect(
                !WebhookSignature.verify(
                    header: firing.headers["webhook-signature"] ?? "", id: firing.webhookID, timestamp: timestamp + 1,
                    body: firing.body, key: WebhookSignature.key(fromSecret: Self.secret)!))
            #expect(firing.json["version"] as? String == "4")
            #expect(firing.json["status"] as? String == "firing")
            #expect(firing.json["receiver"] as? String == "oncall")
            #expect(firing.json["groupKey"] as? String == #"{}:{alertname="DuplicateAttemptSpike"}"#)
            let alert = try #require(Self.alertsOf(firing).first)
            let labels = alert["labels"] as? [String: String] ?? [:]
            #expect(
                labels == [
                    "alertname": "DuplicateAttemptSpike", "service": "payments", "operation": "refund", "severity": "warning",
                ])
            #expect((alert["annotations"] as? [String: String])?["summary"] == "80% duplicates on payments/refund")
            #expect(alert["endsAt"] as? String == "0001-01-01T00:00:00Z")

            let metrics = try await service.get("/metrics").1
            #expect(
                metrics.contains(
                    #"dedup_alerts_firing{alertname="DuplicateAttemptSpike",service="payments",operation="refund",severity="warning"} 1"#
                ))
            #expect(metrics.contains(#"dedup_webhook_deliveries_total{receiver="oncall",result="success"} 1"#))
            #expect(try PromtoolCheck.run(metrics) == "")
            let summaryAlerts = try await service.getJSON("/v1/summary")["alerts"] as? [[String: Any]] ?? []
            #expect(summaryAlerts.count == 1)

            clock.advance(by: 120_000)
            #expect(await eventually { receiver.requests.count >= 2 })
            try await Task.sleep(for: .milliseconds(600))
            #expect(receiver.requests.count == 2)
            let resolved = try #require(receiver.requests.last)
            #expect(resolved.webhookID != firing.webhookID)
            #expect(resolved.json["status"] as? String == "resolved")
            #expect(resolved.json["groupKey"] as? String == firing.json["groupKey"] as? String)
            let resolvedAlert = try #require(Self.alertsOf(resolved).first)
            #expect(resolvedAlert["status"] as? String == "resolved")
            #expect(resolvedAlert["endsAt"] as? String != "0001-01-01T00:00:00Z")
            #expect(resolvedAlert["fingerprint"] as? String == alert["fingerprint"] as? String)
            let listed = try await service.alerts()
            #expect(listed.count == 1)
            #expect(listed.first?["state"] as? String == "resolved")
            let after = try await service.get("/metrics").1
            #expect(!after.contains("dedup_alerts_firing{"))
            #expect(after.contains("# TYPE dedup_alerts_firing gauge"))
            #expect(try PromtoolCheck.run(after) == "")

        }
        await receiver.stop()
    }

    @Test func receiverAnswering503IsRetriedWithTheSameWebhookID() async throws {
        let dir = try TemporaryDirectory()
        let receiver = try await TestReceiver.start()
        receiver.answer([.init(status: 503, headers: ["Retry-After": "1"]), .init(status: 503)], then: .init(status: 200))
        let receivers = [ServiceConfig.Receiver(name: "oncall", url: receiver.url, secretEnv: "ONCALL_SECRET")]
        try await TestService.startAlerting(
            config: Self.config(db: dir.file("db.sqlite"), receivers: receivers), clock: DedupVitalsService.systemClock,
            options: try Self.options(receivers: receivers, initialDelayMs: 100)
        ).scoped { service in

            try await Self.spike(service)
            #expect(await eventually(timeout: .seconds(15)) { receiver.requests.count >= 3 })
            try await Task.sleep(for: .milliseconds(500))
            let requests = receiver.requests
            #expect(requests.count == 3)
            #expect(Set(requests.map(\.webhookID)).count == 1)
            #expect(requests.allSatisfy { $0.body == requests[0].body })
            if requests.count >= 2 {
                // The first 503 carried Retry-After: 1.
                #expect(requests[1].receivedAt - requests[0].receivedAt >= .milliseconds(900))
            }
            let metrics = try await service.get("/metrics").1
            #expect(metrics.contains(#"dedup_webhook_deliveries_total{receiver="oncall",result="retry"} 2"#))
            #expect(metrics.contains(#"dedup_webhook_deliveries_total{receiver="oncall",result="success"} 1"#))
            #expect(metrics.contains(#"dedup_webhook_queue_depth{receiver="oncall"} 0"#))

        }
        await receiver.stop()
    }

    @Test func pendingNotificationSurvivesARestart() async throws {
        let dir = try TemporaryDirectory()
        let receiver = try await TestReceiver.start()
        receiver.answer([], then: .init(status: 503))
        let clock = TestClock(DedupVitalsService.systemClock())
        let receivers = [ServiceConfig.Receiver(name: "oncall", url: receiver.url, secretEnv: "ONCALL_SECRET")]
        let config = Self.config(db: dir.file("db.sqlite"), receivers: receivers)
        let id = try await TestService.startAlerting(
            config: config, clock: clock.read, options: try Self.options(receivers: receivers)
        ).scoped { first in
            try await Self.spike(first)
            #expect(await eventually { receiver.requests.count >= 1 })
            let id = try #require(receiver.requests.first).webhookID
            #expect(
                try await eventually {
                    try await first.get("/metrics").1.contains(#"dedup_webhook_queue_depth{receiver="oncall"} 1"#)
                })
            return id
        }

        receiver.answer([], then: .init(status: 200))
        let before = receiver.requests.count
        clock.advance(by: 5_000)
        try await TestService.startAlerting(config: config, clock: clock.read, options: try Self.options(receivers: receivers))
            .scoped { second in
                #expect(await eventually { receiver.requests.count > before })
                try await Task.sleep(for: .milliseconds(500))
                #expect(receiver.requests.count == before + 1)
                #expect(receiver.requests.allSatisfy { $0.webhookID == id })
                #expect(receiver.requests.last?.json["status"] as? String == "firing")
            }
        await receiver.stop()
    }

    @Test func firingAlertIsNotRenotifiedAfterRestartAndResolvesIfItResolvedWhileDown() async throws {
        let dir = try TemporaryDirectory()
        let receiver = try await TestReceiver.start()
        let clock = TestClock(DedupVitalsService.systemClock())
        let receivers = [ServiceConfig.Receiver(name: "oncall", url: receiver.url)]
        let config = Self.config(db: dir.file("db.sqlite"), receivers: receivers)
        let startsAt = try await TestService.startAlerting(
            config: config, clock: clock.read, options: try Self.options(receivers: receivers)
        ).scoped { first in
            try await Self.spike(first)
            #expect(await eventually { receiver.requests.count == 1 })
            let startsAt = try await first.alerts().first?["startsAt"] as? String
            return startsAt
        }

        clock.advance(by: 1_000)
        try await TestService.startAlerting(config: config, clock: clock.read, options: try Self.options(receivers: receivers))
            .scoped { second in
                try await Task.sleep(for: .milliseconds(700))
                #expect(receiver.requests.count == 1)
                let alerts = try await second.alerts()
                #expect(alerts.first?["state"] as? String == "firing")
                #expect(alerts.first?["startsAt"] as? String == startsAt)
                #expect(receiver.requests.first?.headers["webhook-signature"] == nil)
            }

        clock.advance(by: 180_000)
        try await TestService.startAlerting(config: config, clock: clock.read, options: try Self.options(receivers: receivers))
            .scoped { third in
                #expect(await eventually { receiver.requests.count >= 2 })
                try await Task.sleep(for: .milliseconds(500))
                #expect(receiver.requests.count == 2)
                #expect(receiver.requests.last?.json["status"] as? String == "resolved")
            }
        await receiver.stop()
    }

    @Test func forDelaysFiringUntilTheConditionHeldLongEnough() async throws {
        let dir = try TemporaryDirectory()
        let receiver = try await TestReceiver.start()
        let clock = TestClock(DedupVitalsService.systemClock())
        var rule = Self.spikeRule
        rule.window = .minutes(5)
        rule.forDuration = .minutes(1)
        let receivers = [ServiceConfig.Receiver(name: "oncall", url: receiver.url)]
        try await TestService.startAlerting(
            config: Self.config(db: dir.file("db.sqlite"), receivers: receivers), clock: clock.read,
            options: try Self.options(rules: [rule], receivers: receivers)
        ).scoped { service in
            try await Self.spike(service)
            #expect(try await eventually { try await service.alerts().first?["state"] as? String == "pending" })
            clock.advance(by: 30_000)
            try await Task.sleep(for: .milliseconds(400))
            #expect(receiver.requests.isEmpty)
            #expect(try await service.alerts().first?["state"] as? String == "pending")
            clock.advance(by: 31_000)
            #expect(await eventually { receiver.requests.count == 1 })
            #expect(try await service.alerts().first?["state"] as? String == "firing")
        }
        await receiver.stop()
    }

    @Test func goneReceiverDisablesItsPendingDeliveries() async throws {
        let dir = try TemporaryDirectory()
        let receiver = try await TestReceiver.start()
        receiver.answer([], then: .init(status: 410))
        let clock = TestClock(DedupVitalsService.systemClock())
        var mismatch = AlertRule(name: "KeyMismatch", kind: .mismatchRatio, window: .minutes(1), above: 0.1)
        mismatch.labels = ["severity": "critical"]
        let receivers = [ServiceConfig.Receiver(name: "oncall", url: receiver.url)]
        try await TestService.startAlerting(
            config: Self.config(db: dir.file("db.sqlite"), receivers: receivers), clock: clock.read,
            options: try Self.options(rules: [Self.spikeRule, mismatch], receivers: receivers)
        ).scoped { service in
            // One batch, so that both rules fire in the same evaluation and both notifications are queued before the
            // first delivery: mismatch 2/12 > 0.1, duplicates 8/12 > 0.5.
            let events = ["mismatch", "mismatch", "miss", "miss"] + Array(repeating: "hit", count: 8)
            let batch = events.map { #"{"service":"payments","operation":"refund","outcome":"\#($0)"}"# }
            #expect(try await HTTP.post(service.baseURL + "/v1/events", "[" + batch.joined(separator: ",") + "]").status == 202)
            #expect(try await eventually { try await service.get("/metrics").1.contains(#"result="failed"} 1"#) })
            try await Task.sleep(for: .milliseconds(400))
            #expect(receiver.requests.count == 1)
            let metrics = try await service.get("/metrics").1
            #expect(metrics.contains(#"dedup_webhook_queue_depth{receiver="oncall"} 0"#))
            #expect(metrics.contains(#"dedup_webhook_deliveries_total{receiver="oncall",result="retry"} 0"#))
            let messages = try service.service.store.outboxMessages()
            #expect(messages.count == 2)
            #expect(Set(messages.map(\.status)) == [.failed, .disabled])
        }
        await receiver.stop()
    }

    @Test func clientErrorFailsAtOnce() async throws {
        let dir = try TemporaryDirectory()
        let receiver = try await TestReceiver.start()
        receiver.answer([], then: .init(status: 400))
        let clock = TestClock(DedupVitalsService.systemClock())
        let receivers = [ServiceConfig.Receiver(name: "oncall", url: receiver.url)]
        try await TestService.startAlerting(
            config: Self.config(db: dir.file("db.sqlite"), receivers: receivers), clock: clock.read,
            options: try Self.options(receivers: receivers)
        ).scoped { service in
            try await Self.spike(service)
            #expect(await eventually { receiver.requests.count == 1 })
            clock.advance(by: 30_000)
            try await Task.sleep(for: .milliseconds(400))
            #expect(receiver.requests.count == 1)
            let metrics = try await service.get("/metrics").1
            #expect(metrics.contains(#"dedup_webhook_deliveries_total{receiver="oncall",result="failed"} 1"#))
            #expect(try service.service.store.outboxMessages().map(\.status) == [.failed])
        }
        await receiver.stop()
    }

    @Test func alertmanagerReceiverGetsAlertsWithExpiryThenResolveTime() async throws {
        let dir = try TemporaryDirectory()
        let receiver = try await TestReceiver.start()
        let clock = TestClock(DedupVitalsService.systemClock())
        let receivers = [ServiceConfig.Receiver(name: "am", url: receiver.baseURL, kind: .alertmanager)]
        try await TestService.startAlerting(
            config: Self.config(db: dir.file("db.sqlite"), receivers: receivers), clock: clock.read,
            options: try Self.options(receivers: receivers)
        ).scoped { service in
            try await Self.spike(service)
            #expect(await eventually { receiver.requests.count >= 1 })
            let posted = try #require(receiver.requests.first)
            #expect(posted.path == "/api/v2/alerts")
            let alerts = try #require((try JSONSerialization.jsonObject(with: Data(posted.body))) as? [[String: Any]])
            #expect(alerts.count == 1)
            #expect(
                alerts.first?["labels"] as? [String: String]
                    == [
                        "alertname": "DuplicateAttemptSpike", "service": "payments", "operation": "refund", "severity": "warning",
                    ])
            let endsAt = RFC3339.parseMilliseconds(Array((alerts.first?["endsAt"] as? String ?? "").utf8)) ?? 0
            #expect(endsAt >= clock.read() + 4 * 60_000)
            #expect((alerts.first?["generatorURL"] as? String)?.hasPrefix(service.baseURL) == true)

            let count = receiver.requests.count
            clock.advance(by: 120_000)
            #expect(await eventually { receiver.requests.count > count })
            let last = try #require(receiver.requests.last)
            let resolved = try #require((try JSONSerialization.jsonObject(with: Data(last.body))) as? [[String: Any]])
            let resolvedEnd = RFC3339.parseMilliseconds(Array((resolved.first?["endsAt"] as? String ?? "").utf8)) ?? 0
            #expect(resolvedEnd == clock.read())
        }
        await receiver.stop()
    }

    @Test func keyForensicsFeedTheStaleInFlightAndDoubleExecutionRules() async throws {
        let dir = try TemporaryDirectory()
        let receiver = try await TestReceiver.start()
        let clock = TestClock(DedupVitalsService.systemClock())
        let rules = [
            AlertRule(name: "Double", kind: .doubleExecution, window: .minutes(15), labels: ["severity": "critical"]),
            AlertRule(name: "Stale", kind: .staleInFlight, window: .minutes(5), labels: ["severity": "warning"]),
        ]
        let receivers = [ServiceConfig.Receiver(name: "oncall", url: receiver.url)]
        try await TestService.startAlerting(
            config: Self.config(db: dir.file("db.sqlite"), receivers: receivers), clock: clock.read,
            options: try Self.options(rules: rules, receivers: receivers)
        ).scoped { service in
            let miss = #"{"service":"payments","operation":"refund","outcome":"miss","key":"order-1"}"#
            #expect(try await HTTP.post(service.baseURL + "/v1/events", miss).status == 202)
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await service.alerts().isEmpty)

            // A second miss for the same key: a double execution.
            #expect(try await HTTP.post(service.baseURL + "/v1/events", miss).status == 202)
            #expect(
                await eventually { receiver.requests.contains { $0.json["groupKey"] as? String == #"{}:{alertname="Double"}"# } })

            // Neither miss completed: after stale_in_flight_after (5m) the key is a stale in-flight key.
            clock.advance(by: 6 * 60_000)
            #expect(
                await eventually { receiver.requests.contains { $0.json["groupKey"] as? String == #"{}:{alertname="Stale"}"# } })
            let firing = try await service.alerts().filter { $0["state"] as? String == "firing" }
            #expect(firing.compactMap { ($0["labels"] as? [String: String])?["alertname"] }.sorted() == ["Double", "Stale"])
        }
        await receiver.stop()
    }
}
