import DedupVitalsCore
import Foundation
import Testing

/// POST /v1/events against a live service on loopback with a real SQLite file.
@Suite struct IngestTests {
    static let refund = #""service":"payments","operation":"refund""#

    /// Totals of one series from /v1/summary (nil when the series does not exist).
    static func totals(
        _ service: TestService, _ name: String = "payments", _ operation: String = "refund"
    ) async throws -> [String: Int]? {
        try await seriesField(service.baseURL, name, operation, "totals")
    }

    static func totals(
        _ baseURL: String, _ name: String = "payments", _ operation: String = "refund"
    ) async throws -> [String: Int]? {
        try await seriesField(baseURL, name, operation, "totals")
    }

    static func seriesField(
        _ baseURL: String, _ name: String, _ operation: String, _ field: String
    ) async throws -> [String: Int]? {
        let summary = try await HTTP.get(baseURL + "/v1/summary").json
        let series = summary["series"] as? [[String: Any]] ?? []
        guard let item = series.first(where: { $0["service"] as? String == name && $0["operation"] as? String == operation }),
            let counts = item[field] as? [String: Any]
        else { return nil }
        return counts.compactMapValues { $0 as? Int }
    }

    @Test func everyBodyFormIsCountedExactly() async throws {
        let dir = try TemporaryDirectory()
        try await withService(database: dir.file("db.sqlite")) { service in
            let url = service.baseURL + "/v1/events"

            let single = try await HTTP.post(url, "{\(Self.refund),\"outcome\":\"miss\"}")
            #expect(single.status == 202)
            #expect(single.text == #"{"accepted":1}"#)
            let array = try await HTTP.post(
                url, "[{\(Self.refund),\"outcome\":\"hit\"},{\(Self.refund),\"outcome\":\"hit\",\"age_ms\":5}]")
            #expect(array.json["accepted"] as? Int == 2)
            let wrapped = try await HTTP.post(
                url,
                "{\"events\":[{\(Self.refund),\"outcome\":\"in_flight\"},{\(Self.refund),\"outcome\":\"completed\"},{\(Self.refund),\"outcome\":\"mismatch\"}]}"
            )
            #expect(wrapped.json["accepted"] as? Int == 3)
            let ndjson = try await HTTP.post(
                url,
                "{\(Self.refund),\"outcome\":\"miss\"}\n\n{\(Self.refund),\"outcome\":\"hit\"}\r\n{\(Self.refund),\"outcome\":\"hit\"}\n",
                contentType: "application/x-ndjson")
            #expect(ndjson.json["accepted"] as? Int == 3)

            let totals = try #require(try await Self.totals(service))
            #expect(totals["miss"] == 2)
            #expect(totals["hit"] == 4)
            #expect(totals["in_flight"] == 1)
            #expect(totals["completed"] == 1)
            #expect(totals["mismatch"] == 1)
            #expect(totals["attempts"] == 8)

            let metrics = try await HTTP.get(service.baseURL + "/metrics").text
            #expect(metrics.contains(#"dedup_events_total{service="payments",operation="refund",outcome="hit"} 4"#))
            #expect(metrics.contains(#"dedup_ingest_events_total{result="accepted"} 9"#))
            #expect(metrics.contains(#"dedup_ingest_requests_total{code="202"} 4"#))
        }
    }

    @Test func windowsAreExactToTheBucketAndSurviveARestart() async throws {
        let dir = try TemporaryDirectory()
        // A fixed clock in the middle of a bucket makes the window edges deterministic.
        let now: Int64 = 1_800_000_005_000
        let clock: @Sendable () -> Int64 = { now }
        func check(_ service: TestService) async throws {
            let windows =
                try #require(try await HTTP.get(service.baseURL + "/v1/summary").json["series"] as? [[String: Any]])
                .first?["windows"] as? [String: [String: Any]]
            let w = try #require(windows)
            #expect(w["1m"]?["attempts"] as? Int == 2)
            #expect(w["1m"]?["duplicate_ratio"] as? Double == 0.5)
            #expect(w["5m"]?["attempts"] as? Int == 4)
            #expect(w["5m"]?["duplicate_ratio"] as? Double == 0.75)
            #expect(w["15m"]?["attempts"] as? Int == 6)
            #expect(w["1h"]?["attempts"] as? Int == 7)
            #expect(w["1h"]?["completed"] as? Int == 1)
            let metrics = try await HTTP.get(service.baseURL + "/metrics").text
            #expect(metrics.contains(#"dedup_duplicate_ratio{service="payments",operation="refund",window="5m"} 0.75"#))
            #expect(metrics.contains(#"dedup_attempts{service="payments",operation="refund",window="15m"} 6"#))
            #expect(metrics.contains(#"dedup_events_total{service="payments",operation="refund",outcome="hit"} 3"#))
        }
        try await withService(database: dir.file("db.sqlite"), clock: clock) { service in
            func event(_ outcome: String, secondsAgo: Int64) -> String {
                "{\(Self.refund),\"outcome\":\"\(outcome)\",\"ts\":\(Double(now - secondsAgo * 1000) / 1000)}"
            }
            // 1m window = buckets starting at now-50s .. now; 5m = now-290s ..; 15m = now-890s ..; 1h = now-3590s ..
            let events = [
                event("miss", secondsAgo: 0), event("hit", secondsAgo: 45),  // 1m
                event("hit", secondsAgo: 70), event("in_flight", secondsAgo: 280),  // 5m
                event("miss", secondsAgo: 300), event("mismatch", secondsAgo: 880),  // 15m
                event("hit", secondsAgo: 1000), event("completed", secondsAgo: 3500),  // 1h
            ]
            let reply = try await HTTP.post(service.baseURL + "/v1/events", "[" + events.joined(separator: ",") + "]")
            #expect(reply.status == 202)
            try await check(service)
        }
        try await withService(database: dir.file("db.sqlite"), clock: clock) { service in
            try await check(service)
        }
    }

    @Test func retentionDropsOldBucketsAndIdleSeries() async throws {
        let dir = try TemporaryDirectory()
        let start: Int64 = 1_800_000_000_000
        let clock = TestClock(start)
        try await withService(database: dir.file("db.sqlite"), clock: clock.read, configure: { $0.retention = .hours(1) }) {
            service throws in
            #expect(try await HTTP.post(service.baseURL + "/v1/events", "{\(Self.refund),\"outcome\":\"miss\"}").status == 202)
        }
        clock.advance(by: 3_600_000 + 20_000)
        try await withService(database: dir.file("db.sqlite"), clock: clock.read, configure: { $0.retention = .hours(1) }) {
            service throws in
            #expect(try await Self.totals(service) == nil)
            #expect(!(try await HTTP.get(service.baseURL + "/metrics").text.contains("payments")))
        }
    }

    @Test func idempotencyKeyReplaysTheOriginalResponseAndCountsOnce() async throws {
        let dir = try TemporaryDirectory()
        let body = "[{\(Self.refund),\"outcome\":\"miss\"},{\(Self.refund),\"outcome\":\"hit\"}]"
        try await withService(database: dir.file("db.sqlite")) { service in
            let url = service.baseURL + "/v1/events"
            let first = try await HTTP.post(url, body, headers: [("Idempotency-Key", "batch-1")])
            #expect(first.status == 202)
            #expect(first.headers.first(name: "Idempotent-Replayed") == nil)
            let retry = try await HTTP.post(url, body, headers: [("Idempotency-Key", "batch-1")])
            #expect(retry.status == 202)
            #expect(retry.text == first.text)
            #expect(retry.headers.first(name: "Idempotent-Replayed") == "true")
            let reused = try await HTTP.post(
                url, "{\(Self.refund),\"outcome\":\"hit\"}", headers: [("Idempotency-Key", "batch-1")])
            #expect(reused.status == 422)
            #expect(reused.errorCode == "idempotency_key_reused")
            let tooLong = try await HTTP.post(url, body, headers: [("Idempotency-Key", String(repeating: "k", count: 256))])
            #expect(tooLong.status == 400)
            #expect(try await Self.totals(service)?["attempts"] == 2)
            let metrics = try await HTTP.get(service.baseURL + "/metrics").text
            #expect(metrics.contains(#"dedup_ingest_events_total{result="replayed"} 2"#))
        }

        // Remembered across a restart.
        try await withService(database: dir.file("db.sqlite")) { restarted in
            let afterRestart = try await HTTP.post(
                restarted.baseURL + "/v1/events", body, headers: [("Idempotency-Key", "batch-1")])
            #expect(afterRestart.headers.first(name: "Idempotent-Replayed") == "true")
            #expect(try await Self.totals(restarted)?["attempts"] == 2)
        }
    }

    @Test func concurrentRetriesWithOneKeyCountOnce() async throws {
        let dir = try TemporaryDirectory()
        try await withService(database: dir.file("db.sqlite")) { service in
            let url = service.baseURL + "/v1/events"
            let body = "[" + Array(repeating: "{\(Self.refund),\"outcome\":\"hit\"}", count: 200).joined(separator: ",") + "]"
            let statuses = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
                for _ in 0..<16 {
                    group.addTask {
                        let reply = try await HTTP.post(url, body, headers: [("Idempotency-Key", "same")])
                        return (reply.status, reply.headers.first(name: "Idempotent-Replayed") == "true")
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == (202, false) }.count == 1)
            #expect(statuses.allSatisfy { $0.0 == 202 || $0.0 == 409 })
            #expect(try await Self.totals(service)?["hit"] == 200)
        }
    }
}

/// An `Idempotency-Key` is checked on the bytes sent: invalid UTF-8 would otherwise be decoded with replacement
/// characters, and two different keys could be taken for one.
@Suite struct IdempotencyKeyBytesTests {
    @Test func aKeyThatIsNotUTF8IsRefusedAndNothingIsStored() async throws {
        let dir = try TemporaryDirectory()
        try await withService(database: dir.file("db.sqlite")) { service in
            let body = #"{"service":"payments","operation":"refund","outcome":"miss"}"#
            for key in [[UInt8](repeating: 0xE9, count: 3), [UInt8](repeating: 0xEA, count: 3)] {
                let connection = try RawConnection(service.baseURL)
                try connection.send(
                    Array(
                        "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nIdempotency-Key: "
                            .utf8)
                        + key + Array("\r\n\r\n\(body)".utf8))
                let reply = try #require(await connection.readResponse(timeout: .seconds(10)))
                #expect(reply.status == 400)
                #expect(reply.body.contains("invalid_idempotency_key") && reply.body.contains("UTF-8"), "\(reply.body)")
            }
            let summary = try await HTTP.get(service.baseURL + "/v1/summary")
            #expect(!summary.text.contains("refund"), "nothing of a refused request is stored")
            let long = try await HTTP.post(
                service.baseURL + "/v1/events", body, headers: [("Idempotency-Key", String(repeating: "é", count: 128))])
            #expect(long.status == 400 && long.text.contains("1 to 255 bytes"), "\(long.text)")
        }
    }
}
