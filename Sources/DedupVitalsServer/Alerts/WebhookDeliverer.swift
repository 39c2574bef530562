import AsyncHTTPClient
import DedupVitalsCore
import DedupVitalsStorage
import Logging
import NIOCore
import NIOHTTP1

/// Sends due outbox messages and records each outcome (docs/reference/webhooks.md#delivery).
///
/// Each message is POSTed with the Standard Webhooks headers: `webhook-id` (the message id, the same on every
/// retry), `webhook-timestamp` (of this attempt) and, when the receiver has a secret, `webhook-signature`.
/// 2xx delivers; 408/429/5xx and connection errors are retried per ``DeliveryPolicy``; 410 disables the receiver's
/// pending messages; anything else fails at once. Every outcome is logged (never the URL's secrets or the body)
/// and counted in `dedup_webhook_deliveries_total`.
struct WebhookDeliverer: Sendable {
    let store: DedupStore
    /// Receivers and their signing keys are read per message: a reload changes them for the next attempt, and the
    /// messages waiting in the outbox stay there.
    let live: LiveConfiguration
    let alerting: AlertingState
    let policy: DeliveryPolicy
    let clock: @Sendable () -> Int64
    let random: @Sendable () -> Double
    let logger: Logger
    let errors: InternalErrors
    var requestTimeout: TimeAmount = .seconds(10)
    /// At most this much of a response body is read.
    var maxResponseBytes = 64 * 1024

    /// Sends every due message; receivers are served concurrently, each receiver's messages in order.
    func deliverDue(client: HTTPClient) async {
        let due: [OutboxMessage]
        do {
            due = try store.dueOutboxMessages(nowMs: clock())
        } catch {
            logger.warning("cannot read the webhook outbox; will retry", metadata: ["error": "\(error)"])
            return
        }
        let byReceiver = Dictionary(grouping: due, by: \.receiver)
        await withTaskGroup(of: Void.self) { group in
            for (_, messages) in byReceiver {
                group.addTask {
                    for message in messages {
                        if await deliver(message, client: client) == .gone { break }
                    }
                }
            }
        }
        refreshQueueDepth()
    }

    func refreshQueueDepth() {
        do {
            alerting.setQueueDepth(try store.outboxQueueDepth())
        } catch {
            errors.record(
                .outboxDepth, "webhook queue depth could not be read; the gauge keeps its last value", error: error,
                logger: logger)
        }
    }

    /// One attempt at `message`; returns its outcome.
    @discardableResult
    func deliver(_ message: OutboxMessage, client: HTTPClient) async -> DeliveryOutcome {
        let attempt = message.attempts + 1
        var metadata: Logger.Metadata = [
            "receiver": "\(message.receiver)", "webhook_id": "\(message.id)", "attempt": "\(attempt)",
        ]
        let running = live.current
        guard let receiver = running.config.receivers.first(where: { $0.name == message.receiver }) else {
            record(message, status: .failed, attempts: message.attempts, next: nil, error: "receiver not configured")
            alerting.recordDelivery(receiver: message.receiver, result: .failed)
            logger.error("webhook delivery failed: the receiver is no longer configured", metadata: metadata)
            return .failed
        }
        let outcome: DeliveryOutcome
        var detail: String
        let started = ContinuousClock.now
        do {
            let (status, retryAfter) = try await post(
                message, to: receiver, signingKey: running.signingKeys[receiver.name], client: client)
            alerting.recordDeliveryDuration(receiver: receiver.name, seconds: (ContinuousClock.now - started).inSeconds)
            outcome = DeliveryPolicy.outcome(status: status, retryAfter: retryAfter, nowMs: clock())
            detail = "HTTP \(status)"
            metadata["status"] = "\(status)"
        } catch {
            alerting.recordDeliveryDuration(receiver: receiver.name, seconds: (ContinuousClock.now - started).inSeconds)
            outcome = .retry(retryAfterMs: nil)
            detail = "connection error: \(Self.describe(error))"
            metadata["error"] = "\(Self.describe(error))"
        }
        let nowMs = clock()
        switch outcome {
        case .success:
            record(message, status: .delivered, attempts: attempt, next: nil, error: nil)
            alerting.recordDelivery(receiver: receiver.name, result: .success)
            logger.info("webhook delivered", metadata: metadata)
        case .retry(let retryAfterMs):
            if let next = policy.nextAttemptMs(
                failedAttempts: attempt, createdMs: message.createdMs, nowMs: nowMs, retryAfterMs: retryAfterMs, random: random())
            {
                record(message, status: .pending, attempts: attempt, next: next, error: detail)
                alerting.recordDelivery(receiver: receiver.name, result: .retry)
                metadata["retry_in_ms"] = "\(next - nowMs)"
                logger.warning("webhook delivery will be retried", metadata: metadata)
            } else {
                detail += "; gave up after \(attempt) attempts"
                record(message, status: .failed, attempts: attempt, next: nil, error: detail)
                alerting.recordDelivery(receiver: receiver.name, result: .failed)
                logger.error("webhook delivery failed: retries exhausted", metadata: metadata)
            }
        case .gone:
            record(message, status: .failed, attempts: attempt, next: nil, error: detail)
            alerting.recordDelivery(receiver: receiver.name, result: .failed)
            do {
                let disabled = try store.disablePendingDeliveries(
                    receiver: receiver.name, reason: "receiver answered 410 Gone", nowMs: nowMs)
                metadata["disabled_pending"] = "\(disabled)"
            } catch {
                errors.record(
                    .outboxDisable,
                    "pending deliveries of a receiver that answered 410 Gone could not be disabled; they will be tried",
                    error: error, logger: logger, metadata: metadata)
            }
            logger.error("webhook receiver answered 410 Gone; its pending deliveries are disabled", metadata: metadata)
        case .failed:
            record(message, status: .failed, attempts: attempt, next: nil, error: detail)
            alerting.recordDelivery(receiver: receiver.name, result: .failed)
            logger.error("webhook delivery failed", metadata: metadata)
        }
        return outcome
    }

    private func record(_ message: OutboxMessage, status: OutboxMessage.Status, attempts: Int, next: Int64?, error: String?) {
        do {
            try store.recordDeliveryAttempt(
                id: message.id, status: status, attempts: attempts, nextAttemptMs: next, error: error, nowMs: clock())
        } catch {
            logger.warning(
                "cannot record a webhook delivery attempt", metadata: ["webhook_id": "\(message.id)", "error": "\(error)"])
        }
    }

    /// POSTs the message; returns the status and `Retry-After`. Reads at most `maxResponseBytes` of the body.
    private func post(
        _ message: OutboxMessage, to receiver: ServiceConfig.Receiver, signingKey: [UInt8]?, client: HTTPClient
    ) async throws -> (Int, String?) {
        var request = HTTPClientRequest(url: Self.endpoint(of: receiver))
        request.method = .POST
        let timestamp = clock() / 1000
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "dedup-vitals/\(DedupVitalsVersion.current)")
        request.headers.add(name: "webhook-id", value: message.id)
        request.headers.add(name: "webhook-timestamp", value: String(timestamp))
        if let key = signingKey {
            request.headers.add(
                name: "webhook-signature",
                value: WebhookSignature.sign(id: message.id, timestamp: timestamp, body: message.body, key: key))
        }
        request.body = .bytes(ByteBuffer(bytes: message.body))
        let response = try await client.execute(request, timeout: requestTimeout)
        var received = 0
        for try await chunk in response.body {
            received += chunk.readableBytes
            if received >= maxResponseBytes { break }
        }
        return (Int(response.status.code), response.headers.first(name: "Retry-After"))
    }

    /// Where a receiver's messages go: its URL, or `<url>/api/v2/alerts` for an Alertmanager.
    static func endpoint(of receiver: ServiceConfig.Receiver) -> String {
        switch receiver.kind {
        case .webhook: receiver.url
        case .alertmanager: (receiver.url.hasSuffix("/") ? String(receiver.url.dropLast()) : receiver.url) + "/api/v2/alerts"
        }
    }

    /// An error description without URLs (they may carry tokens).
    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError { return "\(error)" }
        return String(describing: type(of: error)) + ": " + "\(error)".prefix(200)
    }
}
