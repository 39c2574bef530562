import DedupVitalsCore
import Foundation
import Testing

/// POST /v1/logs (docs/otlp.md) against a live service on loopback with a real SQLite file: protobuf and JSON,
/// gzip and deflate, partial success, errors as google.rpc.Status, token scopes, backpressure.
@Suite struct OTLPLogsTests {
    static let traceID: [UInt8] = Array(1...16)
    static let spanID: [UInt8] = Array(1...8)

    static var nowNanos: UInt64 { UInt64(Date().timeIntervalSince1970 * 1e9) }

    static func post(
        _ service: TestService, _ body: [UInt8], contentType: String = "application/x-protobuf", encoding: String? = nil,
        headers: [(String, String)] = []
    ) async throws -> HTTP.Reply {
        var all = [("Content-Type", contentType)] + headers
        if let encoding { all.append(("Content-Encoding", encoding)) }
        return try await HTTP.request(.POST, service.baseURL + "/v1/logs", bytes: body, headers: all)
    }

    static func metric(_ service: TestService, _ line: String) async throws -> Bool {
        try await HTTP.get(service.baseURL + "/metrics").text.contains(line)
    }

    @Test func gzippedProtobufDecisionsAreCommittedAndTheRestIgnoredOrRejected() async throws {
        let dir = try TemporaryDirectory()
        let service = try await TestService.start(database: dir.file("db.sqlite"))
        var builder = OTLPRequestBuilder()
        var notADecision = OTLPRequestBuilder.Record(eventName: nil, attributes: [("dedup_vitals.outcome", .string("miss"))])
        notADecision.body = "GET /healthz 200"
        let otherEvent = OTLPRequestBuilder.Record(eventName: "http.request", attributes: [])
        builder.resources = [
            (
                "payments",
                [
                    OTLPRequestBuilder.decision(
                        "refund", "miss", key: "order-1", payload: "sha256:aa", timeUnixNano: Self.nowNanos,
                        traceID: Self.traceID, spanID: Self.spanID),
                    notADecision,
                    OTLPRequestBuilder.decision("refund", "hit", key: "order-1", ageMs: 1500),
                    OTLPRequestBuilder.decision("refund", "maybe", key: "order-2"),
                    otherEvent,
                ]
            ),
            (nil, [OTLPRequestBuilder.decision("refund", "miss")]),  // no service.name: rejected
        ]
        let reply = try await Self.post(service, Compression.gzip(builder.protobuf), encoding: "gzip")
        #expect(reply.status == 200)
        #expect(reply.headers.first(name: "Content-Type") == "application/x-protobuf")
        let response = OTLPRequestBuilder.fields([UInt8](reply.body))
        let partial = OTLPRequestBuilder.fields(try #require(response[1] as? [UInt8]))
        #expect(partial[1] as? UInt64 == 2)
        let message = String(decoding: try #require(partial[2] as? [UInt8]), as: UTF8.self)
        #expect(message == "log record 3: dedup_vitals.outcome must be one of miss, hit, in_flight, completed, mismatch")

        let totals = try #require(try await IngestTests.totals(service))
        #expect(totals["miss"] == 1)
        #expect(totals["hit"] == 1)
        #expect(try await Self.metric(service, "dedup_otlp_ignored_log_records_total 2"))
        #expect(try await Self.metric(service, #"dedup_ingest_events_total{result="accepted"} 2"#))
        #expect(try await Self.metric(service, #"dedup_ingest_events_total{result="rejected"} 2"#))
        #expect(try await Self.metric(service, #"dedup_ingest_requests_total{code="200"} 1"#))
        let lookup = try await HTTP.get(service.baseURL + "/v1/keys/lookup?service=payments&operation=refund&key=order-1")
        #expect(lookup.status == 200)
        let counts = try #require(lookup.json["counts"] as? [String: Int])
        #expect(counts["miss"] == 1)
        #expect(counts["hit"] == 1)
        try await service.stop()
    }

    @Test func aFullySuccessfulRequestHasNoPartialSuccessAndAnEmptyRequestIsFine() async throws {
        let dir = try TemporaryDirectory()
        let service = try await TestService.start(database: dir.file("db.sqlite"))
        let empty = try await Self.post(service, [])
        #expect(empty.status == 200)
        #expect(empty.body.isEmpty)
        let emptyJSON = try await Self.post(service, Array("{}".utf8), contentType: "application/json")
        #expect(emptyJSON.status == 200)
        #expect(emptyJSON.text == "{}")
        var builder = OTLPRequestBuilder()
        builder.resources = [("payments", [OTLPRequestBuilder.decision("refund", "miss", key: "k")])]
        let deflated = try await Self.post(service, Compression.deflate(builder.protobuf, windowBits: 15), encoding: "deflate")
        #expect(deflated.status == 200)
        #expect(deflated.body.isEmpty)
        let raw = try await Self.post(service, Compression.deflate(builder.protobuf, windowBits: -15), encoding: "deflate")
        #expect(raw.status == 200)
        #expect(try await IngestTests.totals(service)?["miss"] == 2)
        try await service.stop()
    }

    /// `otlp_listen` through the binary: OTLP's own port serves `/v1/logs` and the health checks with the main
    /// listener's tokens, writes through the same pipeline, and nothing else.
    @Test func otlpListenServesOnlyTheLogsReceiverWithTheSameTokens() async throws {
        let dir = try TemporaryDirectory()
        let config = dir.file("config.yml")
        try "otlp_listen: 127.0.0.1:0\nauth:\n  tokens:\n    - {name: ops, token_env: OPS_TOKEN}\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let bearer = [("Authorization", "Bearer s3cret-ops")]
        try await withProcess(
            ["serve", "--config", config, "--db", dir.file("db.sqlite")], environment: ["OPS_TOKEN": "s3cret-ops"]
        ) { service in
            let main = try await service.baseURL()
            let listener = try await service.waitForLog(matching: #"otlp_listener=[^ \n]*:[0-9]+"#)
            let otlp = "http://127.0.0.1:" + (listener.split(separator: ":").last ?? "")
            #expect(otlp != main)
            var builder = OTLPRequestBuilder()
            builder.resources = [("payments", [OTLPRequestBuilder.decision("refund", "miss", key: "k")])]
            let headers = [("Content-Type", "application/x-protobuf")]
            let anonymous = try await HTTP.request(.POST, otlp + "/v1/logs", bytes: builder.protobuf, headers: headers)
            #expect(anonymous.status == 401)
            let accepted = try await HTTP.request(.POST, otlp + "/v1/logs", bytes: builder.protobuf, headers: headers + bearer)
            #expect(accepted.status == 200 && accepted.body.isEmpty)
            #expect(try await HTTP.get(otlp + "/readyz").status == 200)
            let elsewhere = try await HTTP.get(otlp + "/v1/summary", headers: bearer)
            #expect(elsewhere.status == 404 && elsewhere.errorCode == "not_found")
            #expect(try await HTTP.request(.POST, otlp + "/v1/events", body: "[]", headers: bearer).status == 404)
            let summary = try await HTTP.get(main + "/v1/summary", headers: bearer).json
            let series = try #require((summary["series"] as? [[String: Any]])?.first)
            #expect((series["totals"] as? [String: Any])?["miss"] as? Int == 1)
            #expect(await service.stop() == 0)
        }
    }

    /// A body as the OTLP specification's JSON examples write it, with the quirks exporters add.
    @Test func jsonWithTheSpecificationsQuirks() async throws {
        let dir = try TemporaryDirectory()
        let service = try await TestService.start(database: dir.file("db.sqlite"))
        let now = Self.nowNanos
        let body = """
            {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},
              "scopeLogs":[{"scope":{"name":"my.library","version":"1.0.0"},"logRecords":[
                {"timeUnixNano":"\(now)","observedTimeUnixNano":"\(now)","severityNumber":10,"severityText":"Information",
                 "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","eventName":"dedup_vitals.decision",
                 "body":{"stringValue":"Example log record"},"someFutureField":{"x":[1,2,3]},
                 "attributes":[{"key":"dedup_vitals.operation","value":{"stringValue":"pay"}},
                               {"key":"dedup_vitals.outcome","value":{"stringValue":"miss"}},
                               {"key":"dedup_vitals.key","value":{"stringValue":"cart-9"}},
                               {"key":"dedup_vitals.age_ms","value":{"intValue":"0"}},
                               {"key":"nested","value":{"kvlistValue":{"values":[{"key":"a","value":{"arrayValue":{"values":[]}}}]}}}]},
                {"time_unix_nano":\(now),"trace_id":"W47/95gDgQPSabYzgT/GDA==","span_id":"7uGbfsPBsXQ=","event_name":"dedup_vitals.decision",
                 "attributes":[{"key":"dedup_vitals.operation","value":{"stringValue":"pay"}},
                               {"key":"dedup_vitals.outcome","value":{"stringValue":"hit"}},
                               {"key":"dedup_vitals.key","value":{"stringValue":"cart-9"}},
                               {"key":"dedup_vitals.age_ms","value":{"intValue":250}}]},
                {"eventName":"dedup_vitals.decision","traceId":"5b8efff798038103d269b633813fc60","attributes":[
                               {"key":"dedup_vitals.operation","value":{"stringValue":"pay"}},
                               {"key":"dedup_vitals.outcome","value":{"stringValue":"hit"}}]}
              ]}]}]}
            """
        let reply = try await Self.post(service, Array(body.utf8), contentType: "application/json; charset=utf-8")
        #expect(reply.status == 200)
        #expect(reply.headers.first(name: "Content-Type") == "application/json")
        let partial = try #require(reply.json["partialSuccess"] as? [String: Any])
        #expect(partial["rejectedLogRecords"] as? String == "1")
        #expect((partial["errorMessage"] as? String)?.hasPrefix("log record 2: trace_id") == true)
        let totals = try #require(try await IngestTests.totals(service, "checkout", "pay"))
        #expect(totals["miss"] == 1)
        #expect(totals["hit"] == 1)
        try await service.stop()
    }

    @Test func undecodableBodiesGetA400StatusInTheRequestsEncoding() async throws {
        let dir = try TemporaryDirectory()
        let service = try await TestService.start(database: dir.file("db.sqlite"))
        let truncated = Array(OTLPRequestBuilder.bytes(1, Array(repeating: 0x0A, count: 40)).dropLast(10))
        let protobuf = try await Self.post(service, truncated)
        #expect(protobuf.status == 400)
        #expect(protobuf.headers.first(name: "Content-Type") == "application/x-protobuf")
        let status = OTLPRequestBuilder.fields([UInt8](protobuf.body))
        #expect(status[1] as? UInt64 == 3)
        #expect(String(decoding: try #require(status[2] as? [UInt8]), as: UTF8.self).hasPrefix("invalid protobuf at byte"))

        let json = try await Self.post(
            service, Array(#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"soon"}]}]}]}"#.utf8),
            contentType: "application/json")
        #expect(json.status == 400)
        #expect(json.json["code"] as? Int == 3)
        #expect((json.json["message"] as? String)?.contains("timeUnixNano") == true)

        let corrupt = try await Self.post(
            service, [0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xFF, 0xFF], encoding: "gzip")
        #expect(corrupt.status == 400)
        try await service.stop()
    }

    @Test func otherMediaTypesAndEncodingsGet415() async throws {
        let dir = try TemporaryDirectory()
        let service = try await TestService.start(database: dir.file("db.sqlite"))
        let text = try await Self.post(service, Array("hello".utf8), contentType: "text/plain")
        #expect(text.status == 415)
        #expect(text.json["code"] as? Int == 3)
        let brotli = try await Self.post(service, [1, 2, 3], encoding: "br")
        #expect(brotli.status == 415)
        #expect(brotli.headers.first(name: "Content-Type") == "application/x-protobuf")
        try await service.stop()
    }

    /// A decompression bomb: 64 MiB of zeros in ~64 KiB of gzip, against a 1 MiB limit.
    @Test func aDecompressionBombGets413() async throws {
        let dir = try TemporaryDirectory()
        let service = try await TestService.start(
            database: dir.file("db.sqlite"), configure: { $0.limits.maxBodyBytes = 1 << 20 })
        let bomb = Compression.gzip([UInt8](repeating: 0, count: 64 << 20))
        #expect(bomb.count < 1 << 20)
        let started = ContinuousClock.now
        let reply = try await Self.post(service, bomb, encoding: "gzip")
        #expect(reply.status == 413)
        #expect(ContinuousClock.now - started < .seconds(5))
        let events = try await HTTP.request(
            .POST, service.baseURL + "/v1/events", bytes: bomb,
            headers: [("Content-Type", "application/json"), ("Content-Encoding", "gzip")])
        #expect(events.status == 413)
        #expect(events.errorCode == "body_too_large")
        try await service.stop()
    }

    @Test func recordsOutsideTheTokensScopeAreRejectedInPartialSuccess() async throws {
        let dir = try TemporaryDirectory()
        let service = try await AuthTests.start(dir)
        var builder = OTLPRequestBuilder()
        builder.resources = [
            ("payments", [OTLPRequestBuilder.decision("refund", "miss")]),
            ("billing", [OTLPRequestBuilder.decision("refund", "miss"), OTLPRequestBuilder.decision("refund", "hit")]),
        ]
        let reply = try await Self.post(service, builder.protobuf, headers: AuthTests.bearer(AuthTests.paymentsSecret))
        #expect(reply.status == 200)
        let partial = OTLPRequestBuilder.fields(try #require(OTLPRequestBuilder.fields([UInt8](reply.body))[1] as? [UInt8]))
        #expect(partial[1] as? UInt64 == 2)
        #expect(
            String(decoding: try #require(partial[2] as? [UInt8]), as: UTF8.self)
                == "log record 1: token payments-prod may not report service billing")
        #expect(AuthTests.attempts(service, "payments") == 1)
        #expect(AuthTests.attempts(service, "billing") == 0)

        let anonymous = try await Self.post(service, builder.protobuf)
        #expect(anonymous.status == 401)
        #expect(OTLPRequestBuilder.fields([UInt8](anonymous.body))[1] as? UInt64 == 16)
        #expect(anonymous.headers.first(name: "WWW-Authenticate")?.hasPrefix("Bearer") == true)
        try await service.stop()
    }

    @Test func aRateLimitedExporterGets429WithAnIntegerRetryAfter() async throws {
        let dir = try TemporaryDirectory()
        let service = try await TestService.start(database: dir.file("db.sqlite"), environment: ["SLOW": "slow-secret"]) {
            config in
            config.tokens = [
                .init(name: "slow", tokenEnv: "SLOW", services: nil, rateLimit: .init(eventsPerSecond: 0.01, burst: 2))
            ]
        }
        // A slow refill (one event per 100 s): the second request finds the bucket empty however loaded the machine.
        var builder = OTLPRequestBuilder()
        builder.resources = [("payments", (0..<3).map { _ in OTLPRequestBuilder.decision("refund", "miss") })]
        // A full bucket admits one batch, even one larger than the burst; the next finds it empty.
        let first = try await Self.post(service, builder.protobuf, headers: AuthTests.bearer("slow-secret"))
        #expect(first.status == 200)
        let reply = try await Self.post(service, builder.protobuf, headers: AuthTests.bearer("slow-secret"))
        #expect(reply.status == 429)
        let retryAfter = try #require(reply.headers.first(name: "Retry-After"))
        #expect(Int(retryAfter) != nil)
        #expect(OTLPRequestBuilder.fields([UInt8](reply.body))[1] as? UInt64 == 8)
        try await service.stop()
    }

    @Test func compressedEventsBodies() async throws {
        let dir = try TemporaryDirectory()
        let service = try await TestService.start(database: dir.file("db.sqlite"))
        let body = Array(
            #"[{"service":"payments","operation":"refund","outcome":"miss"},{"service":"payments","operation":"refund","outcome":"hit"}]"#
                .utf8)
        for (encoding, bytes) in [("gzip", Compression.gzip(body)), ("deflate", Compression.deflate(body, windowBits: 15))] {
            let reply = try await HTTP.request(
                .POST, service.baseURL + "/v1/events", bytes: bytes,
                headers: [("Content-Type", "application/json"), ("Content-Encoding", encoding)])
            #expect(reply.status == 202, "\(encoding): \(reply.text)")
            #expect(reply.json["accepted"] as? Int == 2)
        }
        let brotli = try await HTTP.request(
            .POST, service.baseURL + "/v1/events", bytes: body,
            headers: [("Content-Type", "application/json"), ("Content-Encoding", "br")])
        #expect(brotli.status == 415)
        #expect(brotli.errorCode == "unsupported_encoding")
        // A field sent twice is read as the list of both values, as HTTP defines it: not one gzip, but two.
        let twice = try await HTTP.request(
            .POST, service.baseURL + "/v1/events", bytes: Compression.gzip(body),
            headers: [("Content-Type", "application/json"), ("Content-Encoding", "gzip"), ("Content-Encoding", "gzip")])
        #expect(twice.status == 415)
        #expect(twice.errorCode == "unsupported_encoding")
        let truncated = try await HTTP.request(
            .POST, service.baseURL + "/v1/events", bytes: Array(Compression.gzip(body).dropLast(12)),
            headers: [("Content-Type", "application/json"), ("Content-Encoding", "gzip")])
        #expect(truncated.status == 400)
        #expect(truncated.errorCode == "invalid_encoding")
        #expect(try await IngestTests.totals(service)?["attempts"] == 4)
        try await service.stop()
    }
}
