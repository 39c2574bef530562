import DedupVitalsCore
import DedupVitalsServer
import Foundation
import Testing

/// Key forensics through the live service: metrics, summary, lookup, restarts, the key cap, and no raw key anywhere.
@Suite struct ForensicsServiceTests {
    static func event(_ outcome: String, key: String, extra: String = "", operation: String = "refund") -> String {
        #"{"service":"payments","operation":"\#(operation)","outcome":"\#(outcome)","key":"\#(key)"\#(extra)}"#
    }

    static func post(_ service: TestService, _ events: [String]) async throws {
        let reply = try await HTTP.post(service.baseURL + "/v1/events", "[" + events.joined(separator: ",") + "]")
        #expect(reply.status == 202, "\(reply.text)")
    }

    static func series(_ service: TestService) async throws -> [String: Any] {
        let summary = try await HTTP.get(service.baseURL + "/v1/summary").json
        return try #require((summary["series"] as? [[String: Any]])?.first)
    }

    @Test func tracesLeadFromLookupAndExemplarsToTheRequestsThatRanTwiceAndSurviveARestart() async throws {
        let dir = try TemporaryDirectory()
        let clock = TestClock(1_800_000_000_000)
        let first = "4bf92f3577b34da6a3ce929d0e0e4736"
        let second = "0af7651916cd43dd8448eb211c80319c"
        try await withService(database: dir.file("db.sqlite"), clock: clock.read) { service in
            try await Self.post(
                service,
                [
                    Self.event("miss", key: "order-1", extra: #","trace_id":"\#(first)","span_id":"00f067aa0ba902b7""#),
                    Self.event("hit", key: "order-1", extra: #","age_ms":700,"trace_id":"\#(second.uppercased())""#),
                    Self.event("miss", key: "order-1", extra: #","trace_id":"\#(second)","span_id":"b7ad6b7169203331""#),
                    Self.event("miss", key: "order-2"),
                    Self.event("miss", key: "order-2"),
                ])
            let openMetrics = try await HTTP.get(
                service.baseURL + "/metrics", headers: [("Accept", "application/openmetrics-text")]
            ).text
            #expect(
                openMetrics.contains(
                    #"dedup_double_executions_total{service="payments",operation="refund"} 2 # {trace_id="\#(second)",span_id="b7ad6b7169203331"} 1 1800000000.000"#
                ), "\(openMetrics.split(separator: "\n").filter { $0.contains("double_executions_total{") })")
            #expect(
                openMetrics.contains(
                    #"dedup_retry_delay_seconds_bucket{service="payments",operation="refund",le="1"} 1 # {trace_id="\#(second)"} 0.7 1800000000.000"#
                ))
            #expect(openMetrics.components(separatedBy: " # {").count == 3, "two exemplars, no others")
            // The 0.0.4 text format has no exemplars.
            let text = try await HTTP.get(service.baseURL + "/metrics").text
            #expect(
                !text.contains("trace_id")
                    && text.contains(#"dedup_double_executions_total{service="payments",operation="refund"} 2"#))
        }
        try await withService(database: dir.file("db.sqlite"), clock: clock.read) { service in
            let found = try await HTTP.get(service.baseURL + "/v1/keys/lookup?service=payments&operation=refund&key=order-1")
            let traces = try #require(found.json["traces"] as? [String: [String: String]], "\(found.text)")
            #expect(
                traces == [
                    "first_miss": ["trace_id": first, "span_id": "00f067aa0ba902b7"],
                    "double_execution": ["trace_id": second, "span_id": "b7ad6b7169203331"],
                    "lock": ["trace_id": second, "span_id": "b7ad6b7169203331"],
                ])
            let untraced = try await HTTP.get(service.baseURL + "/v1/keys/lookup?service=payments&operation=refund&key=order-2")
            #expect(untraced.status == 200 && untraced.json["traces"] == nil)
            // Exemplars live in memory: after a restart the counter is there, its exemplar is not.
            let openMetrics = try await HTTP.get(
                service.baseURL + "/metrics", headers: [("Accept", "application/openmetrics-text")]
            ).text
            #expect(!openMetrics.contains("trace_id"))
        }
    }

    @Test func detectorsShowInMetricsSummaryAndLookupAndSurviveARestart() async throws {
        let dir = try TemporaryDirectory()
        let clock = TestClock(1_800_000_000_000)
        let configure: (inout ServiceConfig) -> Void = { $0.staleInFlightAfter = .minutes(5) }
        try await withService(database: dir.file("db.sqlite"), clock: clock.read, configure: configure) { service in
            try await Self.post(
                service,
                [
                    Self.event("miss", key: "order-1", extra: #","client":"checkout""#),
                    Self.event("hit", key: "order-1", extra: #","age_ms":1500,"client":"checkout""#),
                    Self.event("completed", key: "order-1"),
                    Self.event("miss", key: "order-2", extra: #","client":"mobile""#),  // never completes
                    Self.event("in_flight", key: "order-2", extra: #","client":"mobile""#),
                    Self.event("in_flight", key: "order-2", extra: #","client":"mobile""#),
                ])
        }
        // A restart in the middle: the second miss of order-1 must still be recognised.
        clock.advance(by: 6 * 60_000)
        try await withService(database: dir.file("db.sqlite"), clock: clock.read, configure: configure) { service in
            try await Self.post(service, [Self.event("miss", key: "order-1")])

            let metrics = try await HTTP.get(service.baseURL + "/metrics").text
            #expect(metrics.contains(#"dedup_double_executions_total{service="payments",operation="refund"} 1"#))
            #expect(metrics.contains(#"dedup_in_flight_keys{service="payments",operation="refund"} 2"#))
            #expect(metrics.contains(#"dedup_stale_in_flight_keys{service="payments",operation="refund"} 1"#))
            #expect(metrics.contains(#"dedup_retry_delay_seconds_bucket{service="payments",operation="refund",le="2.5"} 3"#))
            #expect(metrics.contains(#"dedup_retry_delay_seconds_count{service="payments",operation="refund"} 3"#))
            #expect(metrics.contains(#"dedup_tracked_keys 2"#))

            let series = try await Self.series(service)
            #expect(series["double_executions"] as? Int == 1)
            #expect(series["in_flight_keys"] as? Int == 2)
            #expect(series["stale_in_flight_keys"] as? Int == 1)
            let clients = try #require(series["top_clients"] as? [[String: Any]])
            #expect(clients.first?["client"] as? String == "mobile")
            #expect(clients.first?["attempts"] as? Int == 3)
            #expect(clients.last?["client"] as? String == "checkout")
            let delay = try #require(series["retry_delay"] as? [String: Any])
            #expect(delay["count"] as? Int == 3)
            #expect(delay["dedup_window_seconds"] as? Double == 86_400)

            let found = try await HTTP.get(service.baseURL + "/v1/keys/lookup?service=payments&operation=refund&key=order-2")
            #expect(found.status == 200)
            #expect(found.json["state"] as? String == "stale_in_flight")
            #expect((found.json["counts"] as? [String: Int])?["in_flight"] == 2)
            let missing = try await HTTP.get(service.baseURL + "/v1/keys/lookup?service=payments&operation=refund&key=never")
            #expect(missing.status == 404)
            #expect(missing.errorCode == "key_not_found")
            let invalid = try await HTTP.get(service.baseURL + "/v1/keys/lookup?service=pay%20ments&operation=refund&key=x")
            #expect(invalid.status == 400)

            // A later completed clears the stale lock.
            try await Self.post(service, [Self.event("completed", key: "order-2"), Self.event("completed", key: "order-1")])
            let after = try await HTTP.get(service.baseURL + "/metrics").text
            #expect(after.contains(#"dedup_stale_in_flight_keys{service="payments",operation="refund"} 0"#))
            #expect(after.contains(#"dedup_in_flight_keys{service="payments",operation="refund"} 0"#))
        }
    }

    @Test func lateRetriesAndNarrowKeysAreCounted() async throws {
        let dir = try TemporaryDirectory()
        let clock = TestClock(1_800_000_000_000)
        let configure: (inout ServiceConfig) -> Void = { $0.dedupWindow = .minutes(10) }
        try await withService(database: dir.file("db.sqlite"), clock: clock.read, configure: configure) { service in
            try await Self.post(service, [Self.event("miss", key: "late")])
            clock.advance(by: 10 * 60_000 + 1)
            try await Self.post(service, [Self.event("miss", key: "late")])
            try await Self.post(
                service, (1...4).map { Self.event("miss", key: "fresh-\($0)", extra: #","payload":"sha256:abc""#) })
            let metrics = try await HTTP.get(service.baseURL + "/metrics").text
            #expect(metrics.contains(#"dedup_late_retries_total{service="payments",operation="refund"} 1"#))
            #expect(metrics.contains(#"dedup_double_executions_total{service="payments",operation="refund"} 0"#))
            #expect(metrics.contains(#"dedup_suspected_narrow_keys_total{service="payments",operation="refund"} 1"#))
        }
    }

    @Test func theKeyCapEvictsOldestFirstAndCountsIt() async throws {
        let dir = try TemporaryDirectory()
        let configure: (inout ServiceConfig) -> Void = { $0.maxTrackedKeys = 10 }
        try await withService(database: dir.file("db.sqlite"), configure: configure) { service in
            try await Self.post(service, (1...25).map { Self.event("miss", key: "k\($0)") })
            let metrics = try await HTTP.get(service.baseURL + "/metrics").text
            #expect(metrics.contains("dedup_tracked_keys 10"))
            #expect(metrics.contains("dedup_key_evictions_total 15"))
            #expect(
                try await HTTP.get(service.baseURL + "/v1/keys/lookup?service=payments&operation=refund&key=k1").status == 404)
            #expect(
                try await HTTP.get(service.baseURL + "/v1/keys/lookup?service=payments&operation=refund&key=k25").status == 200)
        }
        try await withService(database: dir.file("db.sqlite"), configure: configure) { service in
            let metrics = try await HTTP.get(service.baseURL + "/metrics").text
            #expect(metrics.contains("dedup_tracked_keys 10"))
        }
    }

    @Test func noRawKeyAtRestOrInAnyOutput() async throws {
        let dir = try TemporaryDirectory()
        let canary = "CANARY-KEY-7f3a9e"
        let database = dir.file("db.sqlite")
        try await withProcess(serving: database, logPath: dir.file("serve.log"), extraArguments: ["--log-level", "trace"]) {
            process in
            let events = [
                Self.event("miss", key: canary, extra: #","payload":"CANARY-PAYLOAD-51c2","client":"c1""#),
                Self.event("hit", key: canary), Self.event("miss", key: canary), Self.event("mismatch", key: canary),
            ]
            let reply = try await HTTP.post(
                process.baseURL + "/v1/events", "[" + events.joined(separator: ",") + "]",
                headers: [("Idempotency-Key", "batch-\(canary.prefix(3))")])
            #expect(reply.status == 202)
            var outputs = [reply.text]
            for path in [
                "/metrics", "/v1/summary", "/v1/keys/lookup?service=payments&operation=refund&key=\(canary)", "/healthz",
                "/readyz",
            ] {
                outputs.append(try await HTTP.get(process.baseURL + path).text)
            }
            outputs.append(
                try await HTTP.get(process.baseURL + "/metrics", headers: [("Accept", "application/openmetrics-text")]).text)
            let bad = try await HTTP.post(process.baseURL + "/v1/events", Self.event("oops", key: canary))
            outputs.append(bad.text)
            for output in outputs { #expect(!output.contains(canary)) }
            #expect(!outputs.joined().contains("CANARY-PAYLOAD"))

            // Before a checkpoint (WAL) and after the shutdown checkpoint (main file).
            for suffix in ["", "-wal", "-shm"] {
                if let bytes = FileManager.default.contents(atPath: database + suffix) {
                    #expect(bytes.range(of: Data(canary.utf8)) == nil, "raw key in \(suffix)")
                    #expect(bytes.range(of: Data("CANARY-PAYLOAD".utf8)) == nil)
                }
            }
            process.kill(SIGTERM)
            #expect(try await process.waitForExit() == 0)
            let main = try #require(FileManager.default.contents(atPath: database))
            #expect(main.range(of: Data(canary.utf8)) == nil)
            #expect(!process.log().contains(canary))
        }
    }
}
