import DedupVitalsReporter
import Foundation
import Testing

/// The reporter against a real dedup-vitals process (DEDUP_VITALS_BIN) on loopback: what it records is counted
/// exactly once in `/metrics` through outages, slow answers and 503s, and what it loses is what it counts as dropped.
@Suite(.serialized)
struct ReporterLiveTests {
    @Test func restartWithinTheBufferSpanLosesAndDoublesNothing() async throws {
        let service = try LiveService()
        try await service.start()
        var configuration = testConfiguration(service.baseURL)
        configuration.linger = .seconds(1)
        let harness = ReporterHarness(configuration)

        harness.recordPairs(200, service: "restart")
        #expect(await eventually { harness.reporter.statistics.sent == 200 })

        await service.stop()
        harness.recordPairs(300, service: "restart", from: 200)
        #expect(await eventually { harness.reporter.statistics.batchesRetried >= 2 })
        try await service.start()
        // Recorded just before shutdown, inside the linger time: only the shutdown flush sends these.
        harness.recordPairs(100, service: "restart", from: 500)
        try await harness.shutdown()

        let statistics = harness.reporter.statistics
        #expect(statistics.sent == 600)
        #expect(statistics.droppedTotal == 0)
        #expect(try await service.eventCounts(service: "restart") == ["miss": 300, "completed": 300])
        #expect(harness.counter("dedup_vitals_reporter_events_sent_total") == 600)
        #expect(harness.counter("dedup_vitals_reporter_batches_total", [("result", "retried")]) >= 2)
        #expect(harness.counter("dedup_vitals_reporter_events_dropped_total") == 0)
        await service.stop()
    }

    @Test func anOutageLongerThanTheBufferLosesExactlyWhatIsCountedAsDropped() async throws {
        let service = try LiveService()
        try await service.start()
        var configuration = testConfiguration(service.baseURL)
        configuration.bufferCapacity = 100
        configuration.maxBatchSize = 20
        let harness = ReporterHarness(configuration)

        harness.recordPairs(40, service: "outage")
        #expect(await eventually { harness.reporter.statistics.sent == 40 })
        await service.stop()
        harness.recordPairs(500, service: "outage", from: 40)
        try await service.start()
        try await harness.shutdown()

        let statistics = harness.reporter.statistics
        let counted = try await service.eventCounts(service: "outage").values.reduce(0, +)
        let dropped = statistics.dropped["buffer_full", default: 0]
        // The buffer held 100, the batch being retried up to 20 more: at least 380 of the 500 were lost.
        #expect(dropped >= 380)
        #expect(statistics.droppedTotal == dropped)
        #expect(counted == 540 - dropped)
        #expect(statistics.sent == counted)
        #expect(harness.counter("dedup_vitals_reporter_events_dropped_total", [("reason", "buffer_full")]) == Int64(dropped))
        await service.stop()
    }

    @Test func honoursRetryAfterOn503AndCountsTheBatchOnce() async throws {
        let service = try LiveService()
        try await service.start()
        let proxy = try await FaultProxy.start(upstream: service.baseURL) { index, _ in
            index < 2 ? .respond(status: 503, headers: [("Retry-After", "1")], body: #"{"error":{"code":"overloaded"}}"#)
                : .forward()
        }
        let harness = ReporterHarness(testConfiguration(proxy.baseURL))
        harness.recordPairs(30, service: "unavailable")
        #expect(await eventually { harness.reporter.statistics.sent == 30 })
        try await harness.shutdown()

        let requests = proxy.requests
        #expect(requests.count >= 3)
        #expect(Set(requests.prefix(3).map(\.idempotencyKey)).count == 1, "a retried batch keeps its Idempotency-Key")
        for (earlier, later) in zip(requests.prefix(2), requests.dropFirst().prefix(2)) {
            // Backoff alone would wait 25-400 ms; Retry-After asks for a second.
            #expect(later.at - earlier.at >= .milliseconds(950))
        }
        #expect(try await service.eventCounts(service: "unavailable") == ["miss": 15, "completed": 15])
        #expect(harness.counter("dedup_vitals_reporter_batches_total", [("result", "retried")]) == 2)
        await proxy.close()
        await service.stop()
    }

    @Test func aSlowAnswerIsRetriedWithTheSameKeyAndReplayedNotRecounted() async throws {
        let service = try LiveService()
        try await service.start()
        // The service commits the first attempt at once, but its answer reaches the reporter after its timeout.
        let proxy = try await FaultProxy.start(upstream: service.baseURL) { index, _ in
            .forward(delay: index == 0 ? .seconds(2) : .zero)
        }
        var configuration = testConfiguration(proxy.baseURL)
        configuration.requestTimeout = .milliseconds(500)
        let harness = ReporterHarness(configuration)
        harness.recordPairs(50, service: "slow")
        #expect(await eventually { harness.reporter.statistics.sent == 50 })
        try await harness.shutdown()

        let requests = proxy.requests
        #expect(requests.count == 2)
        #expect(requests.first?.idempotencyKey == requests.last?.idempotencyKey)
        #expect(try await service.eventCounts(service: "slow") == ["miss": 25, "completed": 25])
        #expect(try await service.ingestEvents(result: "replayed") == 50, "the retry was answered from the stored response")
        await proxy.close()
        await service.stop()
    }

    @Test func aClientErrorIsNotRetriedAndIsCountedAsRejected() async throws {
        let proxy = try await FaultProxy.start(upstream: nil) { _, _ in
            .respond(status: 403, body: #"{"error":{"code":"forbidden_service","message":"no"}}"#)
        }
        let harness = ReporterHarness(testConfiguration(proxy.baseURL))
        harness.recordPairs(10, service: "forbidden")
        #expect(await eventually { harness.reporter.statistics.batchesFailed == 1 })
        try await Task.sleep(for: .milliseconds(500))
        try await harness.shutdown()
        #expect(proxy.requests.count == 1)
        #expect(harness.reporter.statistics.dropped == ["rejected": 10])
        #expect(harness.counter("dedup_vitals_reporter_batches_total", [("result", "failed")]) == 1)
        await proxy.close()
    }

    @Test func aServiceWithoutGzipGetsTheBatchUncompressed() async throws {
        let service = try LiveService()
        try await service.start()
        let proxy = try await FaultProxy.start(upstream: service.baseURL) { _, request in
            request.contentEncoding == nil ? .forward()
                : .respond(status: 415, body: #"{"error":{"code":"unsupported_encoding"}}"#)
        }
        let harness = ReporterHarness(testConfiguration(proxy.baseURL))
        harness.recordPairs(20, service: "identity")
        #expect(await eventually { harness.reporter.statistics.sent == 20 })
        harness.recordPairs(20, service: "identity", from: 20)
        try await harness.shutdown()
        let encodings = proxy.requests.map { $0.contentEncoding ?? "identity" }
        #expect(encodings == ["gzip", "identity", "identity"])
        #expect(try await service.eventCounts(service: "identity") == ["miss": 20, "completed": 20])
        await proxy.close()
        await service.stop()
    }

    @Test func gzipBatchesReachTheLiveService() async throws {
        // Whichever the service does with gzip (takes it, or refuses it so the reporter falls back), every event is
        // counted once.
        let service = try LiveService()
        try await service.start()
        let proxy = try await FaultProxy.start(upstream: service.baseURL) { _, _ in .forward() }
        let harness = ReporterHarness(testConfiguration(proxy.baseURL))
        harness.recordPairs(100, service: "gzip")
        try await harness.shutdown()
        #expect(proxy.requests.first?.contentEncoding == "gzip")
        #expect(try await service.eventCounts(service: "gzip") == ["miss": 50, "completed": 50])
        await proxy.close()
        await service.stop()
    }

    @Test func shutdownGivesUpAtTheFlushDeadline() async throws {
        let proxy = try await FaultProxy.start(upstream: nil) { _, _ in
            .respond(status: 503, headers: [("Retry-After", "60")])
        }
        var configuration = testConfiguration(proxy.baseURL)
        configuration.shutdownFlushTimeout = .seconds(1)
        let harness = ReporterHarness(configuration)
        harness.recordPairs(30, service: "deadline")
        #expect(await eventually { proxy.requests.count >= 1 })
        let start = ContinuousClock.now
        try await harness.shutdown()
        #expect(ContinuousClock.now - start < .seconds(3))
        #expect(harness.reporter.statistics.dropped == ["shutdown": 30])
        // After shutdown, record still never throws; it counts.
        harness.reporter.record(service: "deadline", operation: "refund", outcome: .miss)
        #expect(harness.reporter.statistics.dropped == ["shutdown": 31])
        await proxy.close()
    }
}
