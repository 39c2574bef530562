import DedupVitalsCore
import Testing

@testable import DedupVitalsServer

/// Templates, fingerprints, signatures and the retry schedule.
@Suite struct AlertFormatTests {
    let labels = ["alertname": "Spike", "service": "payments", "operation": "refund"]

    @Test func annotationTemplatesRenderLikePrometheus() {
        #expect(
            AnnotationTemplate.render("{{ $labels.service }}/{{ $labels.operation }}", labels: labels, value: 0)
                == "payments/refund")
        #expect(AnnotationTemplate.render("{{ $value }}", labels: labels, value: 0.125) == "0.125")
        #expect(AnnotationTemplate.render("{{ $value }}", labels: labels, value: 3) == "3")
        #expect(AnnotationTemplate.render("{{ $value | humanizePercentage }}", labels: labels, value: 0.1234567) == "12.35%")
        #expect(AnnotationTemplate.render("{{humanizePercentage $value}}", labels: labels, value: 0.5) == "50%")
        #expect(AnnotationTemplate.render("{{ .Value | humanizePercentage }}", labels: labels, value: 1) == "100%")
        #expect(AnnotationTemplate.render("{{ $value | humanize }}", labels: labels, value: 1234567) == "1.235M")
        #expect(AnnotationTemplate.render("{{ $value | humanize }}", labels: labels, value: 0.0025) == "2.5m")
        #expect(AnnotationTemplate.render("{{ $value | humanizePercentage }}", labels: labels, value: 0.000001) == "0.0001%")
        #expect(AnnotationTemplate.render("{{ $value | humanizePercentage }}", labels: labels, value: 123.456) == "1.235e+04%")
        #expect(AnnotationTemplate.render("[{{ $labels.missing }}]", labels: labels, value: 0) == "[]")
        #expect(AnnotationTemplate.render("no actions", labels: labels, value: 0) == "no actions")
    }

    @Test func invalidTemplatesAreReported() {
        #expect(AnnotationTemplate.problem(in: "{{ $value | humanizePercentage }} of {{ $labels.service }}") == nil)
        #expect(AnnotationTemplate.problem(in: "{{ $value ") != nil)
        #expect(AnnotationTemplate.problem(in: "{{ $values }}") != nil)
        #expect(AnnotationTemplate.problem(in: "{{ $value | toUpper }}") != nil)
        #expect(AnnotationTemplate.problem(in: "{{ }}") != nil)
        #expect(AnnotationTemplate.problem(in: "oops }}") != nil)
    }

    @Test func largeGroupsAreTruncatedAndCounted() {
        let instances = (0..<5).map { index in
            AlertInstance(
                key: .init(rule: "Spike", series: .init(service: "s\(index)", operation: "op")), state: .firing,
                activeAtMs: 0, startsAtMs: 0, value: 1, labels: ["alertname": "Spike", "service": "s\(index)"], annotations: [:])
        }
        let alerts = instances.map { WebhookPayload.Alert($0, generatorURL: "http://x/v1/alerts") }
        let payload = WebhookPayload(receiver: "r", alertname: "Spike", alerts: alerts, externalURL: "http://x", maxAlerts: 3)
        #expect(payload.alerts.count == 3)
        #expect(payload.truncatedAlerts == 2)
        #expect(payload.commonLabels == ["alertname": "Spike"])
        #expect(payload.alerts[0].startsAt == "1970-01-01T00:00:00.000Z")
        #expect(payload.alerts[0].endsAt == WebhookPayload.zeroTime)
    }

    @Test func fingerprintIsStableAndDependsOnEveryLabel() {
        let fingerprint = AlertFingerprint.of(labels)
        #expect(fingerprint.count == 16)
        #expect(AlertFingerprint.of(labels) == fingerprint)
        var other = labels
        other["operation"] = "charge"
        #expect(AlertFingerprint.of(other) != fingerprint)
        // FNV-1a 64 of the empty label set is the offset basis.
        #expect(AlertFingerprint.of([:]) == "cbf29ce484222325")
    }

    @Test func signatureMatchesTheStandardWebhooksReferenceVector() throws {
        // From the Standard Webhooks reference libraries' tests.
        let key = try #require(WebhookSignature.key(fromSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        let body = Array(#"{"test": 2432232314}"#.utf8)
        let signature = WebhookSignature.sign(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: body, key: key)
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        #expect(
            WebhookSignature.verify(
                header: "v1,bogus \(signature)", id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: body,
                key: key))
        #expect(!WebhookSignature.verify(header: signature, id: "msg_other", timestamp: 1_614_265_330, body: body, key: key))
        #expect(WebhookSignature.key(fromSecret: "plain") == Array("plain".utf8))
        #expect(WebhookSignature.key(fromSecret: "whsec_not*base64") == nil)
    }

    @Test func base64RoundTrips() {
        for text in ["", "f", "fo", "foo", "foob", "fooba", "foobar"] {
            #expect(Base64.decode(Base64.encode(Array(text.utf8))) == Array(text.utf8))
        }
        #expect(Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(Base64.encode(Array("fo".utf8)) == "Zm8=")
        #expect(Base64.decode("Zm8") == Array("fo".utf8))
    }

    @Test func deliveryOutcomesFollowTheDeliveryPolicy() {
        #expect(DeliveryPolicy.outcome(status: 204, retryAfter: nil, nowMs: 0) == .success)
        #expect(DeliveryPolicy.outcome(status: 503, retryAfter: "7", nowMs: 0) == .retry(retryAfterMs: 7000))
        #expect(DeliveryPolicy.outcome(status: 429, retryAfter: nil, nowMs: 0) == .retry(retryAfterMs: nil))
        #expect(DeliveryPolicy.outcome(status: 408, retryAfter: nil, nowMs: 0) == .retry(retryAfterMs: nil))
        #expect(DeliveryPolicy.outcome(status: 410, retryAfter: nil, nowMs: 0) == .gone)
        #expect(DeliveryPolicy.outcome(status: 404, retryAfter: nil, nowMs: 0) == .failed)
        #expect(DeliveryPolicy.outcome(status: 301, retryAfter: nil, nowMs: 0) == .failed)
        let date = RetryAfter.delayMs("Sun, 06 Nov 1994 08:49:37 GMT", nowMs: 784_111_717_000)
        #expect(date == 60_000)
        #expect(RetryAfter.delayMs("soon", nowMs: 0) == nil)
    }

    @Test func backoffGrowsExponentiallyWithJitterAndGivesUpAfterADay() {
        let policy = DeliveryPolicy()
        #expect(policy.backoffMs(failedAttempts: 1, random: 0) == 500)
        #expect(policy.backoffMs(failedAttempts: 1, random: 0.999_999) <= 1000)
        #expect(policy.backoffMs(failedAttempts: 4, random: 0) == 4000)
        #expect(policy.backoffMs(failedAttempts: 4, random: 1) == 8000)
        #expect(policy.backoffMs(failedAttempts: 30, random: 1) == 600_000)
        #expect(policy.nextAttemptMs(failedAttempts: 1, createdMs: 0, nowMs: 0, retryAfterMs: 30_000, random: 0) == 30_000)
        let day: Int64 = 86_400_000
        #expect(policy.nextAttemptMs(failedAttempts: 100, createdMs: 0, nowMs: day - 1000, retryAfterMs: nil, random: 1) == nil)
        #expect(
            policy.nextAttemptMs(failedAttempts: 100, createdMs: 0, nowMs: day - 700_000, retryAfterMs: nil, random: 1) == day
                - 100_000)
    }
}
