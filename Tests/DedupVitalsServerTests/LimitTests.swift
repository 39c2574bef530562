import DedupVitalsCore
import DedupVitalsServer
import Foundation
import Testing

/// The limits (docs/reference/http-api.md#limits) on a live service: series, per-token rate, slow bodies, concurrency.
@Suite struct LimitTests {
    static func event(_ service: String, _ operation: String) -> String {
        #"{"service":"\#(service)","operation":"\#(operation)","outcome":"miss"}"#
    }

    static func batch(_ operations: [String], service: String = "payments") -> String {
        "[" + operations.map { event(service, $0) }.joined(separator: ",") + "]"
    }

    static func seriesCount(_ service: TestService) -> Int { service.service.state.withWindows { $0.seriesCount } }

    static func attempts(_ service: TestService) -> Int64 {
        service.service.state.withWindows { $0.allStates.reduce(0) { $0 + $1.totals.attempts } }
    }

    static func metric(_ service: TestService, _ name: String) async throws -> String? {
        try await HTTP.get(service.baseURL + "/metrics").text.split(separator: "\n")
            .first { $0.hasPrefix(name + " ") }.map { String($0.dropFirst(name.count + 1)) }
    }

    @Test func maxSeriesRefusesOnlyBatchesThatCreateSeriesBeyondIt() async throws {
        let dir = try TemporaryDirectory()
        try await withService(database: dir.file("db.sqlite"), configure: { $0.limits.maxSeries = 3 }) { service in
            let url = service.baseURL + "/v1/events"
            #expect(try await HTTP.post(url, Self.batch(["a", "b"])).status == 202)
            let over = try await HTTP.post(url, Self.batch(["a", "c", "d"]))
            #expect(over.status == 429)
            #expect(over.errorCode == "series_limit")
            #expect(Int(over.headers.first(name: "Retry-After") ?? "") ?? 0 >= 1)
            #expect(Self.seriesCount(service) == 2 && Self.attempts(service) == 2, "nothing of the refused batch is stored")
            #expect(try await HTTP.post(url, Self.batch(["a", "b", "c"])).status == 202, "one new series still fits")
            #expect(try await HTTP.post(url, Self.batch(["a", "b", "c", "a"])).status == 202, "existing series are unaffected")
            #expect(try await HTTP.post(url, Self.batch(["e"])).status == 429)
            #expect(Self.seriesCount(service) == 3 && Self.attempts(service) == 9)
            #expect(try await Self.metric(service, "dedup_series_limit_rejections_total") == "2")
            #expect(try await HTTP.get(service.baseURL + "/metrics").text.contains(#"dedup_ingest_requests_total{code="429"} 2"#))
        }
    }

    /// Many concurrent batches, each creating its own series: exactly `max_series` of them win, on disk and in memory.
    @Test func maxSeriesHoldsUnderConcurrentBatches() async throws {
        let dir = try TemporaryDirectory()
        // The stopped service's memory, to compare with what the reopened one loads from disk.
        let (service, accepted) = try await withService(database: dir.file("db.sqlite"), configure: { $0.limits.maxSeries = 7 }) {
            service in
            let url = service.baseURL + "/v1/events"
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<40 {
                    group.addTask { try await HTTP.post(url, Self.batch(["op\(i)", "shared"], service: "s\(i % 2)")).status }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(Self.seriesCount(service) <= 7)
            #expect(statuses.contains(429) && statuses.contains(202))
            #expect(statuses.allSatisfy { $0 == 202 || $0 == 429 })
            let accepted = statuses.filter { $0 == 202 }.count
            #expect(Self.attempts(service) == Int64(accepted * 2))
            return (service, accepted)
        }
        try await withService(database: dir.file("db.sqlite"), configure: { $0.limits.maxSeries = 7 }) { reopened in
            #expect(Self.seriesCount(reopened) == Self.seriesCount(service), "memory and disk agree")
            #expect(Self.attempts(reopened) == Int64(accepted * 2))
        }
    }

    @Test func aTokensRateLimitAnswers429WithRetryAfterAndRefills() async throws {
        let dir = try TemporaryDirectory()
        let environment = ["SLOW": "slow-secret", "FREE": "free-secret"]
        try await withService(
            database: dir.file("db.sqlite"), environment: environment,
            configure: { config in
                config.tokens = [
                    .init(name: "slow", tokenEnv: "SLOW", services: nil, rateLimit: .init(eventsPerSecond: 2, burst: 20)),
                    .init(name: "free", tokenEnv: "FREE", services: nil),
                ]
            }
        ) { service in
            let url = service.baseURL + "/v1/events"
            let slow = [("Authorization", "Bearer slow-secret")]
            #expect(try await HTTP.post(url, Self.batch(Array(repeating: "a", count: 20)), headers: slow).status == 202)
            let limited = try await HTTP.post(url, Self.batch(Array(repeating: "a", count: 15)), headers: slow)
            #expect(limited.status == 429)
            #expect(limited.errorCode == "rate_limited")
            let wait = Int(limited.headers.first(name: "Retry-After") ?? "") ?? 0
            #expect(wait >= 1 && wait <= 8, "15 events at 2/s from a nearly empty bucket")
            #expect(
                try await HTTP.post(url, Self.batch(["a"]), headers: [("Authorization", "Bearer free-secret")]).status == 202,
                "another token is not limited")
            try await Task.sleep(for: .milliseconds(600))
            #expect(try await HTTP.post(url, Self.batch(["a"]), headers: slow).status == 202, "refilled")
            #expect(Self.attempts(service) == 22)
            #expect(try await Self.metric(service, "dedup_rate_limit_rejections_total") == "1")
        }
    }

    @Test func aSlowBodyTimesOutWith408AndHoldsNothing() async throws {
        let dir = try TemporaryDirectory()
        try await withService(
            database: dir.file("db.sqlite"),
            configure: { config in
                config.limits.bodyReadTimeout = PromDuration(milliseconds: 800)
                config.limits.maxInFlightRequests = 1
            }
        ) { service in
            let body = Self.event("payments", "refund")
            let connection = try RawConnection(service.baseURL)
            try connection.send(RawConnection.postHead(contentLength: body.utf8.count) + String(body.prefix(10)))
            let started = ContinuousClock.now
            let response = try #require(await connection.readResponse(timeout: .seconds(30)))
            #expect(response.status == 408)
            #expect(response.body.contains("body_timeout"))
            #expect(ContinuousClock.now - started < .seconds(30), "long before the 75 s idle timeout")
            #expect(await connection.isClosed(within: .seconds(5)), "the slow connection is closed")
            #expect(try await HTTP.post(service.baseURL + "/v1/events", body).status == 202, "its slot was released")
            #expect(Self.attempts(service) == 1)
        }
    }

    /// The deadline counts from the head: a body trickling in a byte at a time does not earn a new timeout per read
    /// (the timer is armed once, when a read first ends with the body incomplete).
    @Test func aTricklingBodyTimesOutFromItsHead() async throws {
        let dir = try TemporaryDirectory()
        try await withService(
            database: dir.file("db.sqlite"),
            configure: { $0.limits.bodyReadTimeout = PromDuration(milliseconds: 800) }
        ) { service in
            let body = Self.event("payments", "refund")
            let connection = try RawConnection(service.baseURL)
            try connection.send(RawConnection.postHead(contentLength: body.utf8.count) + String(body.prefix(5)))
            let started = ContinuousClock.now
            // A byte every 100 ms until an answer comes: the whole body would take several seconds.
            var sent = 5
            var response: (status: Int, head: String, body: String)?
            while response == nil, sent < body.utf8.count - 1, ContinuousClock.now - started < .seconds(10) {
                response = await connection.readResponse(timeout: .milliseconds(100))
                if response == nil {
                    try connection.send(String(body.dropFirst(sent).prefix(1)))
                    sent += 1
                }
            }
            #expect(response?.status == 408)
            #expect(sent < body.utf8.count - 1, "timed out before the body was complete")
            #expect(ContinuousClock.now - started < .seconds(5), "from the head, not from the last byte")
            #expect(Self.attempts(service) == 0)
        }
    }

    @Test func concurrentIngestRequestsBeyondTheBoundGet503() async throws {
        let dir = try TemporaryDirectory()
        try await withService(database: dir.file("db.sqlite"), configure: { $0.limits.maxInFlightRequests = 2 }) { service in
            let body = Self.event("payments", "refund")
            let held = try (0..<2).map { _ in
                let connection = try RawConnection(service.baseURL)
                try connection.send(RawConnection.postHead(contentLength: body.utf8.count) + String(body.prefix(5)))
                return connection
            }
            try await Task.sleep(for: .milliseconds(300))
            let refused = try await HTTP.post(service.baseURL + "/v1/events", body)
            #expect(refused.status == 503)
            #expect(refused.errorCode == "overloaded")
            #expect(refused.headers.first(name: "Retry-After") == "1")
            #expect(try await HTTP.get(service.baseURL + "/healthz").status == 200, "other routes still answer")
            for connection in held {
                try connection.send(String(body.dropFirst(5)))
                // Generous: the suite runs many servers in parallel on a small machine.
                #expect(await connection.readResponse(timeout: .seconds(20))?.status == 202)
            }
            #expect(try await HTTP.post(service.baseURL + "/v1/events", body).status == 202)
            #expect(Self.attempts(service) == 3)
            #expect(try await Self.metric(service, "dedup_ingest_overload_rejections_total") == "1")
        }
    }

    @Test func bufferedBodiesBeyondTheByteBoundGet503() async throws {
        let dir = try TemporaryDirectory()
        try await withService(
            database: dir.file("db.sqlite"),
            configure: { config in
                config.limits.maxBodyBytes = 1024
                config.limits.maxInFlightBytes = 1500
            }
        ) { service in
            let padded =
                Self.event("payments", "refund")
                + String(repeating: " ", count: 1000 - Self.event("payments", "refund").utf8.count)
            let connection = try RawConnection(service.baseURL)
            try connection.send(RawConnection.postHead(contentLength: padded.utf8.count + 1) + padded)
            try await Task.sleep(for: .milliseconds(300))
            let second = Self.event("orders", "refund") + String(repeating: " ", count: 600)
            let refused = try await HTTP.post(service.baseURL + "/v1/events", second)
            #expect(refused.status == 503)
            #expect(refused.errorCode == "overloaded")
            try connection.send("\n")
            // Generous: the suite runs many servers in parallel on a small machine.
            #expect(await connection.readResponse(timeout: .seconds(20))?.status == 202)
            #expect(try await HTTP.post(service.baseURL + "/v1/events", second).status == 202, "the bytes were released")
            #expect(Self.attempts(service) == 2)
        }
    }
}
