import Foundation
import Testing

/// Every bad-input case of docs/reference/http-api.md#errors gets its status and JSON error shape; nothing is stored.
@Suite struct BadInputTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var body: [UInt8]
        var contentType: String? = "application/json"
        var headers: [(String, String)] = []
        var status: Int
        var code: String
        var index: Int? = nil
        var field: String? = nil
        var line: Int? = nil

        var testDescription: String { name }
    }

    static let ok = #"{"service":"payments","operation":"refund","outcome":"miss"}"#
    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    static let cases: [Case] = [
        Case(name: "malformed JSON", body: bytes(#"{"service":"payments","#), status: 400, code: "invalid_json", line: 1),
        Case(
            name: "malformed JSON on line 3", body: bytes("[\n\(ok),\n{\"service\" \"x\"}]"), status: 400, code: "invalid_json",
            line: 3),
        Case(
            name: "malformed NDJSON line", body: bytes("\(ok)\n{\"service\":\n"), contentType: "application/x-ndjson",
            status: 400, code: "invalid_json", line: 2),
        Case(name: "empty body", body: [], status: 400, code: "invalid_json"),
        Case(
            name: "unknown outcome", body: bytes("[\(ok),{\"service\":\"a\",\"operation\":\"b\",\"outcome\":\"retry\"}]"),
            status: 400, code: "invalid_event", index: 1, field: "outcome"),
        Case(
            name: "missing service", body: bytes(#"{"operation":"refund","outcome":"miss"}"#), status: 400, code: "invalid_event",
            index: 0, field: "service"),
        Case(
            name: "missing operation", body: bytes(#"{"service":"payments","outcome":"miss"}"#), status: 400,
            code: "invalid_event", index: 0, field: "operation"),
        Case(
            name: "label injection in service", body: bytes(#"{"service":"pay\"}ments","operation":"refund","outcome":"miss"}"#),
            status: 400, code: "invalid_event", index: 0, field: "service"),
        Case(
            name: "service too long",
            body: bytes("{\"service\":\"\(String(repeating: "s", count: 65))\",\"operation\":\"refund\",\"outcome\":\"miss\"}"),
            status: 400, code: "invalid_event", index: 0, field: "service"),
        Case(
            name: "operation not a string", body: bytes(#"{"service":"payments","operation":7,"outcome":"miss"}"#), status: 400,
            code: "invalid_event", index: 0, field: "operation"),
        Case(
            name: "ts too old",
            body: bytes(#"{"service":"payments","operation":"refund","outcome":"miss","ts":"2001-01-01T00:00:00Z"}"#),
            status: 400, code: "invalid_event", index: 0, field: "ts"),
        Case(
            name: "ts not a timestamp",
            body: bytes(#"{"service":"payments","operation":"refund","outcome":"miss","ts":"yesterday"}"#), status: 400,
            code: "invalid_event", index: 0, field: "ts"),
        Case(
            name: "huge ts number", body: bytes(#"{"service":"payments","operation":"refund","outcome":"miss","ts":1e400}"#),
            status: 400, code: "invalid_event", index: 0, field: "ts"),
        Case(
            name: "negative age_ms", body: bytes(#"{"service":"payments","operation":"refund","outcome":"hit","age_ms":-1}"#),
            status: 400, code: "invalid_event", index: 0, field: "age_ms"),
        Case(
            name: "age_ms overflows",
            body: bytes(#"{"service":"payments","operation":"refund","outcome":"hit","age_ms":99999999999999999999999}"#),
            status: 400, code: "invalid_event", index: 0, field: "age_ms"),
        Case(
            name: "key too long",
            body: bytes(
                "{\"service\":\"payments\",\"operation\":\"refund\",\"outcome\":\"miss\",\"key\":\"\(String(repeating: "k", count: 256))\"}"
            ), status: 400, code: "invalid_event", index: 0, field: "key"),
        Case(
            name: "empty payload", body: bytes(#"{"service":"payments","operation":"refund","outcome":"miss","payload":""}"#),
            status: 400, code: "invalid_event", index: 0, field: "payload"),
        Case(
            name: "duplicated field",
            body: bytes(#"{"service":"payments","service":"other","operation":"refund","outcome":"miss"}"#), status: 400,
            code: "invalid_event", index: 0, field: "service"),
        Case(
            name: "NaN", body: bytes(#"{"service":"payments","operation":"refund","outcome":"miss","ts":NaN}"#), status: 400,
            code: "invalid_json"),
        Case(
            name: "invalid UTF-8",
            body: bytes(#"{"service":"payments","operation":"refund","outcome":"miss","client":""#) + [0xC3, 0x28]
                + bytes(#""}"#), status: 400, code: "invalid_json"),
        Case(
            name: "deep nesting",
            body: bytes(
                "{\"service\":\"payments\",\"operation\":\"refund\",\"outcome\":\"miss\",\"x\":"
                    + String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000) + "}"), status: 400,
            code: "invalid_json"),
        Case(name: "event not an object", body: bytes("[\(ok),42]"), status: 400, code: "invalid_event", index: 1),
        Case(name: "trailing garbage", body: bytes("\(ok) x"), status: 400, code: "invalid_json"),
        Case(
            name: "unsupported content type", body: bytes(ok), contentType: "text/plain", status: 415,
            code: "unsupported_media_type"),
        Case(
            name: "body over the byte limit", body: bytes("[" + Array(repeating: ok, count: 2000).joined(separator: ",") + "]"),
            status: 413, code: "body_too_large"),
        Case(
            name: "more events than the count limit",
            body: bytes("[" + Array(repeating: ok, count: 51).joined(separator: ",") + "]"), status: 413, code: "too_many_events"),
        Case(
            name: "empty Idempotency-Key", body: bytes(ok), headers: [("Idempotency-Key", "")], status: 400,
            code: "invalid_idempotency_key"),
    ]

    @Test(arguments: cases)
    func isRefusedWithItsStatusAndStoresNothing(_ bad: Case) async throws {
        let dir = try TemporaryDirectory()
        try await withService(
            database: dir.file("db.sqlite"),
            configure: { config in
                config.limits.maxBodyBytes = 64 * 1024
                config.limits.maxEventsPerRequest = 50
            }
        ) { service in
            var headers = bad.headers
            if let contentType = bad.contentType { headers.append(("Content-Type", contentType)) }
            let reply = try await HTTP.request(.POST, service.baseURL + "/v1/events", bytes: bad.body, headers: headers)
            #expect(reply.status == bad.status)
            #expect(reply.headers.first(name: "Content-Type") == "application/json")
            let error = try #require(reply.json["error"] as? [String: Any], Comment(rawValue: reply.text))
            #expect(error["code"] as? String == bad.code)
            #expect((error["message"] as? String)?.isEmpty == false)
            if let index = bad.index { #expect(error["index"] as? Int == index) }
            if let field = bad.field { #expect(error["field"] as? String == field) }
            if let line = bad.line { #expect(error["line"] as? Int == line) }

            let summary = try await HTTP.get(service.baseURL + "/v1/summary").json
            #expect((summary["series"] as? [Any])?.isEmpty == true)
            let metrics = try await HTTP.get(service.baseURL + "/metrics").text
            #expect(!metrics.contains("dedup_events_total{"))
            #expect(metrics.contains("dedup_ingest_requests_total{code=\"\(bad.status)\"} 1"))
        }
    }

    @Test func aBadEventLateInABigBatchStoresNothingOfIt() async throws {
        let dir = try TemporaryDirectory()
        try await withService(database: dir.file("db.sqlite")) { service in
            let good = Array(repeating: Self.ok, count: 999)
            let body = "[" + (good + [#"{"service":"payments","operation":"refund"}"#]).joined(separator: ",") + "]"
            let reply = try await HTTP.post(service.baseURL + "/v1/events", body)
            #expect(reply.status == 400)
            #expect((reply.json["error"] as? [String: Any])?["index"] as? Int == 999)
            #expect((reply.json["error"] as? [String: Any])?["field"] as? String == "outcome")
            #expect(try await IngestTests.totals(service) == nil)
        }
    }
}
