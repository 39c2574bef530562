import DedupVitalsCore
import DedupVitalsTerminal
import Foundation
import Hummingbird
import NIOCore
import Testing

@Suite("GET /v1/series on a live service")
struct SeriesRouteTests {
    private func event(_ outcome: Outcome, agoMs: Int64, operation: String = "refund") -> Event {
        Event(service: "payments", operation: operation, outcome: outcome, key: "k", timeMs: LiveService.nowMs - agoMs)
    }

    @Test("per-step counts and duplicate ratios over the window, newest last")
    func points() async throws {
        try await LiveService.run { client, raw in
            try await LiveService.post(
                [
                    event(.miss, agoMs: 0), event(.hit, agoMs: 0), event(.inFlight, agoMs: 0), event(.completed, agoMs: 0),
                    event(.miss, agoMs: 300_000), event(.mismatch, agoMs: 300_000), event(.miss, agoMs: 0, operation: "capture"),
                ],
                to: client)
            let history = try #require(
                try await client.series(service: "payments", operation: "refund", window: "10m", step: "1m"))
            #expect(history.window == "10m" && history.step == "1m")
            #expect(history.points.count == 10)
            let total = history.points.map(\.counts).reduce(WindowCounts.zero, +)
            #expect(total == WindowCounts(miss: 2, hit: 1, inFlight: 1, completed: 1, mismatch: 1))
            let last = try #require(history.points.last?.counts)
            #expect(last.attempts == 3 && last.duplicates == 2)
            #expect(abs(last.duplicateRatio - 2.0 / 3.0) < 1e-9)
            let starts = history.points.compactMap { Formatting.milliseconds(rfc3339: $0.start) }
            #expect(starts.count == 10 && zip(starts, starts.dropFirst()).allSatisfy { $1 - $0 == 60_000 })

            let defaults = try await raw.execute(uri: "/v1/series?service=payments&operation=refund", method: .get)
            #expect(defaults.status == .ok)
            let decoded = try JSONDecoder().decode(SeriesHistory.self, from: Data(defaults.body.readableBytesView))
            #expect(decoded.window == "1h" && decoded.step == "1m" && decoded.points.count == 60)
        }
    }

    @Test("bad parameters answer 400 invalid_parameter naming the field; an unknown series 404")
    func errors() async throws {
        try await LiveService.run { client, raw in
            try await LiveService.post([event(.miss, agoMs: 0)], to: client)
            let cases: [(String, String)] = [
                ("operation=refund", "service"),
                ("service=payments", "operation"),
                ("service=bad%20name&operation=refund", "service"),
                ("service=payments&operation=refund&window=abc", "window"),
                ("service=payments&operation=refund&window=15s", "window"),
                ("service=payments&operation=refund&window=0s", "window"),
                ("service=payments&operation=refund&window=30d", "window"),
                ("service=payments&operation=refund&window=5m&step=2m", "step"),
                ("service=payments&operation=refund&window=24h&step=10s", "window"),  // beyond the in-memory horizon
            ]
            for (query, field) in cases {
                let response = try await raw.execute(uri: "/v1/series?" + query, method: .get)
                #expect(response.status == .badRequest, "\(query)")
                let body = String(buffer: response.body)
                #expect(
                    body.contains("\"code\":\"invalid_parameter\"") && body.contains("\"field\":\"\(field)\""),
                    "\(query): \(body)")
            }
            let unknown = try await raw.execute(uri: "/v1/series?service=payments&operation=nope", method: .get)
            #expect(unknown.status == .notFound)
            #expect(String(buffer: unknown.body).contains("\"code\":\"unknown_series\""))
            #expect(try await client.series(service: "payments", operation: "nope", window: "15m", step: "10s") == nil)
        }
    }
}
