import AsyncHTTPClient
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Sends the decisions of an idempotency layer to dedup-vitals (`POST /v1/events`).
///
/// `record` only validates the event and appends it to a bounded buffer: it never blocks on I/O and never throws,
/// so reporting can never be the reason a request fails or slows down. One sender task (``run()``, a
/// swift-service-lifecycle `Service`) sends the buffer in batches, gzip-compressed, each with its own
/// `Idempotency-Key` so that a batch retried after a lost answer is counted once. On graceful shutdown it sends
/// what it holds within ``ReporterConfiguration/shutdownFlushTimeout``.
///
/// ```swift
/// let reporter = DecisionReporter(configuration: .init(endpoint: "http://127.0.0.1:9470"))
/// reporter.record(service: "payments", operation: "refund", outcome: .miss, key: "order-42")
/// let group = ServiceGroup(services: [reporter, app], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()
/// ```
public final class DecisionReporter: Service, Sendable {
    public let configuration: ReporterConfiguration
    private let buffer: EventBuffer
    private let metrics: ReporterMetrics
    private let logger: Logger
    private let logOnce = LogOnce()
    private let retryPolicy: RetryPolicy
    /// Cleared once the service has shown it does not take gzip bodies.
    private let gzipAccepted: Atomic<Bool>
    /// Retries since the last delivered batch: the first one of an outage is logged as a warning, the rest at debug.
    private let consecutiveRetries = Atomic<Int>(0)
    /// Set at graceful shutdown: the sender stops lingering and returns once the buffer is empty.
    private let shuttingDown = Atomic<Bool>(false)

    /// - Parameters:
    ///   - metricsFactory: where the reporter's own metrics go; by default the process's `MetricsSystem`.
    public init(
        configuration: ReporterConfiguration, logger: Logger = Logger(label: "dedup-vitals.reporter"),
        metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.configuration = configuration
        self.buffer = EventBuffer(capacity: configuration.bufferCapacity, batchSize: configuration.maxBatchSize)
        self.metrics = ReporterMetrics(prefix: configuration.metricsPrefix, factory: metricsFactory ?? MetricsSystem.factory)
        self.logger = logger
        self.retryPolicy = RetryPolicy(
            initialBackoff: configuration.initialBackoff, maxBackoff: configuration.maxBackoff,
            maxRetryAfter: configuration.maxRetryAfter)
        self.gzipAccepted = Atomic(configuration.compression == .gzip)
    }

    /// Records one decision. Synchronous, non-blocking (a short lock), never throws: an invalid event, a full
    /// buffer or a reporter that has shut down drops the event and counts it.
    public func record(_ event: DecisionEvent) {
        var event = event
        if event.timestamp == nil { event.timestamp = Date().timeIntervalSince1970 }
        if let violation = EventRules.violation(in: event) {
            buffer.updateStatistics { $0.dropped["invalid", default: 0] += 1 }
            metrics.dropped(1, reason: "invalid")
            if logOnce.first("invalid \(violation)") {
                logger.error("dedup-vitals reporter drops invalid events", metadata: ["problem": "\(violation)"])
            }
            return
        }
        switch buffer.append(event) {
        case .accepted:
            return
        case .full:
            metrics.dropped(1, reason: "buffer_full")
            if logOnce.first("buffer_full") {
                logger.warning(
                    "dedup-vitals reporter buffer is full; new events are dropped until it drains",
                    metadata: ["capacity": "\(configuration.bufferCapacity)"])
            }
        case .closed:
            metrics.dropped(1, reason: "shutdown")
        }
    }

    /// Records one decision; see ``record(_:)``.
    public func record(
        service: String, operation: String, outcome: DecisionOutcome, key: String? = nil, payload: String? = nil,
        client: String? = nil, ageMs: Int64? = nil, trace: TraceContext? = nil
    ) {
        record(DecisionEvent(
            service: service, operation: operation, outcome: outcome, key: key, payload: payload, client: client,
            ageMs: ageMs, trace: trace))
    }

    /// What the reporter has done so far.
    public var statistics: ReporterStatistics { buffer.statistics }

    /// Sends batches until graceful shutdown, then flushes what is left within the flush timeout. Cancellation
    /// stops at once (what is left is dropped and counted).
    public func run() async throws {
        var httpConfiguration = HTTPClient.Configuration()
        httpConfiguration.redirectConfiguration = .disallow
        httpConfiguration.timeout = .init(connect: .seconds(5))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
        let endpoint = configuration.endpoint.hasSuffix("/") ? String(configuration.endpoint.dropLast()) : configuration.endpoint
        let transport = BatchTransport(
            client: client, url: endpoint + "/v1/events", bearerToken: configuration.bearerToken,
            timeout: configuration.requestTimeout)
        let flushTimeout = configuration.shutdownFlushTimeout
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.sendLoop(transport) }
            group.addTask {
                // Wait for graceful shutdown (or cancellation), then give the loop the flush timeout.
                try? await gracefulShutdown()
                self.shuttingDown.store(true, ordering: .sequentiallyConsistent)
                self.buffer.wakeup.signal()
                try? await Task.sleep(for: flushTimeout)
            }
            await group.next()
            group.cancelAll()
        }
        let left = buffer.close()
        metrics.dropped(left, reason: "shutdown")
        metrics.bufferDepth.record(0)
        if left > 0 { logger.warning("dedup-vitals reporter stopped with unsent events", metadata: ["dropped": "\(left)"]) }
        try await client.shutdown()
    }

    /// Waits for a full batch or the linger time, sends, repeats; after shutdown is flagged, sends without
    /// lingering until the buffer is empty.
    private func sendLoop(_ transport: BatchTransport) async {
        while !Task.isCancelled {
            let flushing = shuttingDown.load(ordering: .sequentiallyConsistent)
            let (count, since) = buffer.pending
            if count == 0 {
                if flushing { return }
                await buffer.wakeup.wait(timeout: .seconds(60))
                continue
            }
            if !flushing, count < buffer.batchSize, let since {
                let due = since + configuration.linger
                let now = ContinuousClock.now
                if due > now {
                    await buffer.wakeup.wait(timeout: due - now)
                    continue
                }
            }
            let batch = buffer.takeBatch()
            metrics.bufferDepth.record(buffer.pending.count)
            await deliver(batch, transport: transport)
        }
    }

    /// Delivers one batch: retried with the same key and bytes until it is acknowledged, rejected, too old, or the
    /// task is cancelled.
    private func deliver(_ events: [DecisionEvent], transport: BatchTransport) async {
        guard !events.isEmpty else { return }
        let payload = BatchTransport.Payload(events: events, compress: gzipAccepted.load(ordering: .relaxed))
        var retries = 0
        while true {
            if Task.isCancelled { return fail(payload, reason: "shutdown") }
            let age = Date().timeIntervalSince1970 - payload.oldestTimestamp
            if age > Double(configuration.maxEventAge.components.seconds) {
                if logOnce.first("expired") {
                    logger.error(
                        "dedup-vitals reporter gives up batches older than maxEventAge",
                        metadata: ["events": "\(payload.eventCount)"])
                }
                return fail(payload, reason: "expired")
            }
            let result = await transport.deliver(payload, compressed: gzipAccepted.load(ordering: .relaxed))
            switch result {
            case .delivered:
                buffer.updateStatistics {
                    $0.sent += payload.eventCount
                    $0.batchesSent += 1
                }
                metrics.eventsSent.increment(by: Int64(payload.eventCount))
                metrics.batchesSent.increment()
                let outage = consecutiveRetries.exchange(0, ordering: .relaxed)
                if outage > 0 { logger.info("dedup-vitals reporter delivers again", metadata: ["retries": "\(outage)"]) }
                return
            case .uncompressedOnly:
                if gzipAccepted.exchange(false, ordering: .relaxed) {
                    logger.notice("dedup-vitals does not accept gzip bodies; the reporter sends uncompressed batches")
                }
                if payload.gzip == nil { return fail(payload, reason: "rejected") }
            case .rejected(let status, let reason):
                if logOnce.first("rejected \(status)") {
                    logger.error(
                        "dedup-vitals rejected a batch; it is dropped, not retried",
                        metadata: ["status": "\(status)", "reason": "\(reason)", "events": "\(payload.eventCount)"])
                }
                return fail(payload, reason: "rejected")
            case .retry(let retryAfter, let reason):
                if Task.isCancelled { return fail(payload, reason: "shutdown") }
                retries += 1
                buffer.updateStatistics { $0.batchesRetried += 1 }
                metrics.batchesRetried.increment()
                let delay = retryPolicy.delay(retry: retries, retryAfter: retryAfter)
                let level: Logger.Level = consecutiveRetries.add(1, ordering: .relaxed).newValue == 1 ? .warning : .debug
                logger.log(
                    level: level, "dedup-vitals did not take a batch; retrying",
                    metadata: ["reason": "\(reason)", "retry": "\(retries)", "delay": "\(delay)"])
                try? await Task.sleep(for: delay)
            }
        }
    }

    private func fail(_ payload: BatchTransport.Payload, reason: String) {
        buffer.updateStatistics {
            $0.dropped[reason, default: 0] += payload.eventCount
            $0.batchesFailed += 1
        }
        metrics.dropped(payload.eventCount, reason: reason)
        metrics.batchesFailed.increment()
    }
}
