import DedupVitalsCore
import DedupVitalsTerminal
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

@Suite("Dashboard and simulator against real services")
struct DashboardClientTests {
    @Test("one refresh reads the summary and every series' history, and --once draws it without escapes")
    func fetchAndDrawOnce() async throws {
        try await LiveService.run { client, _ in
            let now = LiveService.nowMs
            try await LiveService.post(
                [
                    Event(service: "payments", operation: "refund", outcome: .miss, key: "a", timeMs: now),
                    Event(service: "payments", operation: "refund", outcome: .hit, key: "a", timeMs: now, ageMs: 40),
                    Event(service: "tickets", operation: "create_ticket", outcome: .miss, key: "b", timeMs: now),
                ], to: client)
            let fetcher = DashboardFetcher(client: client)
            let snapshot = try await fetcher.fetch()
            #expect(snapshot.summary.series.map(\.id) == ["payments/refund", "tickets/create_ticket"])
            #expect(snapshot.summary.windows == ["1m", "5m", "15m", "1h"])
            #expect(snapshot.summary.series.map(\.inFlightKeys) == [1, 1], "key forensics from the service: one open lock each")
            #expect(snapshot.summary.series.map(\.doubleExecutions) == [0, 0])
            #expect(snapshot.history["payments/refund"]?.count == 90)
            // The current 10 s step, or the one before it when a step boundary passed since the post.
            #expect(snapshot.history["payments/refund"]?.suffix(2).contains { $0.duplicateRatio == 0.5 } == true)

            let lines = try await DashboardOnce.frame(
                fetcher: fetcher, size: TerminalSize(columns: 120, rows: 24), color: false, fitContent: true)
            let text = lines.joined(separator: "\n")
            #expect(!text.contains("\u{1B}"))
            #expect(text.contains("payments/refund") && text.contains("50.0%"))
            #expect(text.contains("tickets/create_ticket"))
            #expect(lines.allSatisfy { $0.count <= 120 && !$0.hasSuffix(" ") && !$0.isEmpty })
            #expect(lines[0].hasPrefix(" dedup-vitals  \(client.baseURL)  updated ") && !lines[0].contains("every"))
            #expect(!lines.contains { $0.hasPrefix("▶") }, "no selection marker in a one-shot frame")
        }
    }

    @Test("an unreachable service is one clear error")
    func unreachable() async throws {
        let port = ClosedPort.make()
        let fetcher = DashboardFetcher(client: try ServiceClient(baseURL: "http://127.0.0.1:\(port)"))
        await #expect(
            throws: ServiceClientError.unreachable(url: "http://127.0.0.1:\(port)/v1/summary", reason: "connection refused")
        ) {
            try await fetcher.fetch()
        }
    }

    @Test("a service answering an error status is reported with its message")
    func errorStatus() async throws {
        let router = Router()
        router.get("/v1/summary") { _, _ -> Response in
            Response(
                status: .serviceUnavailable, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"error":{"code":"not_ready","message":"database is locked"}}"#)))
        }
        try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { raw in
            let port = try #require(raw.port)
            let fetcher = DashboardFetcher(client: try ServiceClient(baseURL: "http://127.0.0.1:\(port)"))
            do {
                _ = try await fetcher.fetch()
                Issue.record("expected an error")
            } catch {
                #expect("\(error)" == "http://127.0.0.1:\(port)/v1/summary answered 503: database is locked")
            }
        }
    }

    @Test("URLs other than http(s)://HOST[:PORT] are refused")
    func invalidURLs() {
        for url in ["127.0.0.1:9470", "ftp://x", "http://", "http://host/path"] {
            #expect(throws: ServiceClientError.self) { try ServiceClient(baseURL: url) }
        }
        #expect((try? ServiceClient(baseURL: "http://127.0.0.1:9470/"))?.baseURL == "http://127.0.0.1:9470")
    }

    @Test("simulate sends a scenario's events in batches and every one is accepted")
    func simulateAgainstService() async throws {
        try await LiveService.run { client, _ in
            let runner = SimulationRunner(
                client: client, scenario: .retryStorm, ratePerSecond: 300, durationSeconds: 1.5, batchSize: 50,
                tick: .milliseconds(100))
            let report = await runner.run()
            #expect(report.sent > 200)
            #expect(report.accepted == report.sent && report.rejected == 0 && report.lastError == nil)
            let summary = try await client.summary()
            #expect(summary.series.reduce(0) { $0 + $1.totals.total } == Int64(report.accepted))
            #expect(Set(summary.series.map(\.service)).isSuperset(of: ["payments", "agents"]))
            #expect(report.line(scenario: .retryStorm).hasPrefix("simulate retry-storm: sent \(report.sent) events in "))
        }
    }

    @Test("simulate against a closed port accepts nothing and says why")
    func simulateUnreachable() async throws {
        let client = try ServiceClient(baseURL: "http://127.0.0.1:\(ClosedPort.make())")
        let report = await SimulationRunner(
            client: client, scenario: .steady, ratePerSecond: 100, durationSeconds: 0.5, tick: .milliseconds(100)
        ).run()
        #expect(report.sent > 0 && report.accepted == 0 && report.rejected == report.sent)
        #expect(report.lastError?.contains("connection refused") == true)
    }

    @Test("simulate waits out 429 Retry-After and sends the batch again")
    func simulateHonoursRetryAfter() async throws {
        let attempts = Counter()
        let router = Router()
        router.post("/v1/events") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let count = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [Any]
            if attempts.next() == 1 {
                return Response(
                    status: .tooManyRequests, headers: [.contentType: "application/json", .retryAfter: "1"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"error":{"code":"rate_limited","message":"slow down"}}"#)))
            }
            return Response(status: .accepted, body: .init(byteBuffer: ByteBuffer(string: "{\"accepted\":\(count?.count ?? 0)}")))
        }
        try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { raw in
            let client = try ServiceClient(baseURL: "http://127.0.0.1:\(try #require(raw.port))")
            let started = ContinuousClock.now
            let report = await SimulationRunner(
                client: client, scenario: .steady, ratePerSecond: 50, durationSeconds: 0.3, batchSize: 10_000,
                tick: .milliseconds(300)
            ).run()
            // At least the one after the 429; on a loaded machine an answer may also time out and be sent again.
            #expect(report.retries >= 1)
            #expect(report.accepted == report.sent && report.sent > 0)
            #expect(ContinuousClock.now - started >= .seconds(1), "waited for Retry-After")
        }
    }
}

/// A thread-safe counter for a test receiver.
final class Counter: Sendable {
    private let value = Mutex(0)
    func next() -> Int {
        value.withLock {
            $0 += 1
            return $0
        }
    }
}
