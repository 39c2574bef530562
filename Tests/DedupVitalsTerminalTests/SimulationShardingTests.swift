import DedupVitalsCore
import DedupVitalsTerminal
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

/// `simulate` in front of a sharding proxy: one service per request, named in the shard header; many services with
/// `fleets`; gateway errors retried.
@Suite("simulate shards its batches by service")
struct SimulationShardingTests {
    /// What a receiver saw per request: the shard header, the `Idempotency-Key` and the services of the body's events.
    final class Requests: Sendable {
        typealias Seen = (shard: String?, key: String?, services: [String])
        private let seen = Mutex<[Seen]>([])
        func add(_ request: Seen) { seen.withLock { $0.append(request) } }
        var all: [Seen] { seen.withLock { $0 } }
    }

    /// A receiver that records every request and answers `status(n)` to the n-th one (1-based), after `delay(n)`.
    static func withReceiver(
        status: @escaping @Sendable (Int) -> HTTPResponse.Status = { _ in .accepted },
        delay: @escaping @Sendable (Int) -> Duration = { _ in .zero },
        clientTimeout: TimeAmount = .seconds(5),
        _ body: @Sendable (ServiceClient, Requests) async throws -> Void
    ) async throws {
        let requests = Requests()
        let attempts = Counter()
        let router = Router()
        router.post("/v1/events") { request, _ -> Response in
            let bytes = try await request.body.collect(upTo: 1 << 20)
            let events = try JSONSerialization.jsonObject(with: Data(bytes.readableBytesView)) as? [[String: Any]] ?? []
            requests.add(
                (
                    request.headers[.init("X-Dedup-Shard")!], request.headers[.init("Idempotency-Key")!],
                    events.compactMap { $0["service"] as? String }
                ))
            let attempt = attempts.next()
            try await Task.sleep(for: delay(attempt))
            let answer = status(attempt)
            guard answer == .accepted else {
                return Response(
                    status: answer, headers: [.contentType: "application/json", .retryAfter: "1"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"error":{"code":"no_instance","message":"instance lost"}}"#)))
            }
            return Response(status: .accepted, body: .init(byteBuffer: ByteBuffer(string: "{\"accepted\":\(events.count)}")))
        }
        try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { raw in
            try await body(
                try ServiceClient(baseURL: "http://127.0.0.1:\(try #require(raw.port))", timeout: clientTimeout), requests)
        }
    }

    @Test("every request holds one service's events and names that service in X-Dedup-Shard")
    func oneServicePerRequest() async throws {
        try await Self.withReceiver { client, requests in
            let report = await SimulationRunner(
                client: client, scenario: .retryStorm, ratePerSecond: 400, durationSeconds: 1, batchSize: 7,
                tick: .milliseconds(100)
            ).run()
            let seen = requests.all
            // Counted once per batch: on a loaded machine a late answer makes a batch arrive again under its key.
            let batches = Dictionary(seen.map { ($0.key ?? "", $0.services.count) }, uniquingKeysWith: { first, _ in first })
            #expect(report.accepted == report.sent && report.sent == batches.values.reduce(0, +))
            #expect(
                !seen.isEmpty
                    && seen.allSatisfy { request in
                        !request.services.isEmpty && request.services.count <= 7
                            && request.services.allSatisfy { $0 == request.shard }
                    })
            #expect(Set(seen.compactMap(\.shard)) == Set(TrafficModel.series.map(\.0.service)))
        }
    }

    @Test("fleets: copy N's services are suffixed -N, each copy sends its share, and a real service accepts them all")
    func fleets() async throws {
        try await LiveService.run { client, _ in
            let report = await SimulationRunner(
                client: client, scenario: .steady, ratePerSecond: 600, durationSeconds: 1, fleets: 3,
                tick: .milliseconds(100)
            ).run()
            #expect(report.accepted == report.sent && report.rejected == 0)
            let summary = try await client.summary()
            let services = Set(summary.series.map(\.service))
            let expected = Set(TrafficModel.series.map(\.0.service).flatMap { name in (1...3).map { "\(name)-\($0)" } })
            #expect(services.isSubset(of: expected) && services.count >= 9, "most of the 12 services got traffic: \(services)")
            for fleet in 1...3 {
                let events = summary.series.filter { $0.service.hasSuffix("-\(fleet)") }.reduce(0) { $0 + $1.totals.total }
                #expect(events > Int64(report.sent) / 6, "fleet \(fleet) sent about a third: \(events) of \(report.sent)")
            }
        }
    }

    @Test("a gateway error of the proxy is retried after Retry-After", arguments: [502, 504])
    func gatewayErrorsAreRetried(status: Int) async throws {
        try await Self.withReceiver(status: { $0 == 1 ? HTTPResponse.Status(code: status) : .accepted }) { client, requests in
            let report = await SimulationRunner(
                client: client, scenario: .steady, ratePerSecond: 50, durationSeconds: 0.3, batchSize: 10_000,
                tick: .milliseconds(300)
            ).run()
            // At least once: on a loaded machine a slow answer may be retried as well.
            #expect(report.retries >= 1 && report.rejected == 0)
            #expect(report.accepted == report.sent && report.sent > 0)
            let seen = requests.all
            #expect(
                seen.count >= 2 && seen[1].services == seen[0].services && seen[1].key == seen[0].key,
                "the refused batch was sent again under its key")
        }
    }

    @Test("a batch whose answer was lost is sent again under the same Idempotency-Key; each batch has its own key")
    func lostAnswersAreRetriedUnderTheSameKey() async throws {
        try await Self.withReceiver(delay: { $0 == 1 ? .seconds(2) : .zero }, clientTimeout: .milliseconds(300)) {
            client, requests in
            let report = await SimulationRunner(
                client: client, scenario: .steady, ratePerSecond: 200, durationSeconds: 0.3, batchSize: 10_000,
                tick: .milliseconds(300)
            ).run()
            #expect(report.retries >= 1 && report.rejected == 0 && report.lastError == nil)
            #expect(report.accepted == report.sent && report.sent > 0)
            let seen = requests.all
            #expect(seen.count >= 3, "at least two services, one of them sent twice: \(seen.count)")
            #expect(seen[1].key == seen[0].key && seen[1].services == seen[0].services, "the retry reuses the key")
            // Every request has a key; requests under one key are one batch sent again (on a loaded machine other
            // answers may be late too), and batches of different services never share a key.
            let byKey = Dictionary(grouping: seen, by: { $0.key ?? "" })
            #expect(byKey[""] == nil && byKey.count >= 2)
            #expect(byKey.values.allSatisfy { attempts in attempts.allSatisfy { $0.services == attempts[0].services } })
        }
    }
}
