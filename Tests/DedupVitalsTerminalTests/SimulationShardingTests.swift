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
    /// What a receiver saw per request: the shard header and the services of the body's events.
    final class Requests: Sendable {
        private let seen = Mutex<[(shard: String?, services: [String])]>([])
        func add(shard: String?, services: [String]) { seen.withLock { $0.append((shard, services)) } }
        var all: [(shard: String?, services: [String])] { seen.withLock { $0 } }
    }

    /// A receiver that records every request and answers `status(n)` to the n-th one (1-based).
    static func withReceiver(
        status: @escaping @Sendable (Int) -> HTTPResponse.Status = { _ in .accepted },
        _ body: @Sendable (ServiceClient, Requests) async throws -> Void
    ) async throws {
        let requests = Requests()
        let attempts = Counter()
        let router = Router()
        router.post("/v1/events") { request, _ -> Response in
            let bytes = try await request.body.collect(upTo: 1 << 20)
            let events = try JSONSerialization.jsonObject(with: Data(bytes.readableBytesView)) as? [[String: Any]] ?? []
            requests.add(
                shard: request.headers[.init("X-Dedup-Shard")!], services: events.compactMap { $0["service"] as? String })
            let answer = status(attempts.next())
            guard answer == .accepted else {
                return Response(
                    status: answer, headers: [.contentType: "application/json", .retryAfter: "1"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"error":{"code":"no_instance","message":"instance lost"}}"#)))
            }
            return Response(status: .accepted, body: .init(byteBuffer: ByteBuffer(string: "{\"accepted\":\(events.count)}")))
        }
        try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { raw in
            try await body(try ServiceClient(baseURL: "http://127.0.0.1:\(try #require(raw.port))"), requests)
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
            #expect(report.accepted == report.sent && report.sent == seen.reduce(0) { $0 + $1.services.count })
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
            #expect(report.retries == 1 && report.rejected == 0)
            #expect(report.accepted == report.sent && report.sent > 0)
            let seen = requests.all
            #expect(seen.count >= 2 && seen[1].services == seen[0].services, "the refused batch was sent again")
        }
    }
}
