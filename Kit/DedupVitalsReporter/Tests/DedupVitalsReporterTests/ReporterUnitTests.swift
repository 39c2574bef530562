import CompressNIO
import Foundation
import NIOCore
import Testing

@testable import DedupVitalsReporter

struct BatchEncoderTests {
    @Test func encodesTheEventsSchemaWithEscapes() throws {
        let events = [
            DecisionEvent(
                service: "payments", operation: "refund", outcome: .inFlight, key: "k\"\\\n\u{1}é", payload: "p",
                client: "web", ageMs: 1200, trace: TraceContext(traceID: String(repeating: "ab", count: 16), spanID: "0123456789abcdef"),
                timestamp: 1_700_000_000.0456),
            DecisionEvent(service: "payments", operation: "refund", outcome: .miss),
        ]
        var buffer = ByteBuffer()
        BatchEncoder.encode(events, into: &buffer)
        let decoded = try #require(JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [[String: Any]])
        #expect(decoded.count == 2)
        #expect(decoded[0]["key"] as? String == "k\"\\\n\u{1}é")
        #expect(decoded[0]["outcome"] as? String == "in_flight")
        #expect(decoded[0]["age_ms"] as? Int == 1200)
        #expect(decoded[0]["client"] as? String == "web")
        #expect(decoded[0]["trace_id"] as? String == String(repeating: "ab", count: 16))
        #expect(String(buffer: buffer).contains("\"ts\":1700000000.046"))
        #expect(decoded[1].keys.sorted() == ["operation", "outcome", "service"])
    }

    @Test func payloadIsGzipOfTheJSONAndKeepsItsKey() throws {
        let events = (0..<100).map { DecisionEvent(service: "s", operation: "o", outcome: .hit, key: "key-\($0)", timestamp: 1) }
        let payload = BatchTransport.Payload(events: events, compress: true)
        var gzip = try #require(payload.gzip)
        #expect(gzip.readableBytes < payload.json.readableBytes)
        let inflated = try gzip.decompress(with: .gzip())
        #expect(inflated == payload.json)
        #expect(payload.idempotencyKey.count == 36)
        #expect(BatchTransport.Payload(events: events, compress: false).gzip == nil)
    }
}

struct EventRulesTests {
    @Test(arguments: ["payments", "_x", "a.b-c_9", String(repeating: "a", count: 64)])
    func validNames(_ name: String) { #expect(EventRules.isValidName(name)) }

    @Test(arguments: ["", "9a", ".a", "-a", "a b", "é", String(repeating: "a", count: 65)])
    func invalidNames(_ name: String) { #expect(!EventRules.isValidName(name)) }

    @Test func fieldLimits() {
        let base = DecisionEvent(service: "s", operation: "o", outcome: .miss)
        var event = base
        event.key = ""
        #expect(EventRules.violation(in: event) != nil)
        event.key = String(repeating: "k", count: 256)
        #expect(EventRules.violation(in: event) != nil)
        event.key = String(repeating: "k", count: 255)
        #expect(EventRules.violation(in: event) == nil)
        event.payload = String(repeating: "p", count: 129)
        #expect(EventRules.violation(in: event) != nil)
        event = base
        event.ageMs = -1
        #expect(EventRules.violation(in: event) != nil)
    }

    @Test func traceparent() {
        let parsed = TraceContext(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        #expect(parsed?.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(parsed?.spanID == "00f067aa0ba902b7")
        #expect(TraceContext(traceparent: "00-00000000000000000000000000000000-00f067aa0ba902b7-01") == nil)
        #expect(TraceContext(traceparent: "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01") == nil)
        #expect(TraceContext(traceparent: "garbage") == nil)
    }
}

struct RetryPolicyTests {
    let policy = RetryPolicy(initialBackoff: .milliseconds(500), maxBackoff: .seconds(30), maxRetryAfter: .seconds(300))

    @Test func exponentialWithHalfJitterAndACap() {
        #expect(policy.delay(retry: 1, retryAfter: nil, random: 0) == .milliseconds(250))
        #expect(policy.delay(retry: 1, retryAfter: nil, random: 0.999_999) < .milliseconds(500))
        #expect(policy.delay(retry: 3, retryAfter: nil, random: 0) == .seconds(1))
        #expect(policy.delay(retry: 40, retryAfter: nil, random: 0) == .seconds(15))
        #expect(policy.delay(retry: 40, retryAfter: nil, random: 0.999_999) <= .seconds(30))
    }

    @Test func retryAfterWinsUpToItsCap() {
        #expect(policy.delay(retry: 1, retryAfter: .seconds(7)) == .seconds(7))
        #expect(policy.delay(retry: 1, retryAfter: .seconds(3600)) == .seconds(300))
    }

    @Test func parsesSecondsAndHTTPDates() {
        #expect(RetryPolicy.parseRetryAfter("5") == .seconds(5))
        #expect(RetryPolicy.parseRetryAfter(" 0 ") == .zero)
        #expect(RetryPolicy.parseRetryAfter("-1") == nil)
        #expect(RetryPolicy.parseRetryAfter("soon") == nil)
        #expect(RetryPolicy.parseRetryAfter(nil) == nil)
        let now = Date(timeIntervalSince1970: 1_445_412_470)  // Wed, 21 Oct 2015 07:27:50 GMT
        #expect(RetryPolicy.parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", now: now) == .seconds(10))
    }

    @Test func classification() {
        #expect(DeliveryResult.classify(status: 202, body: "", retryAfter: nil, wasCompressed: true) == .delivered)
        for status in [408, 409, 429, 500, 502, 503, 504] {
            #expect(DeliveryResult.classify(status: status, body: "", retryAfter: .seconds(1), wasCompressed: false)
                == .retry(retryAfter: .seconds(1), reason: "HTTP \(status)"))
        }
        for status in [400, 401, 403, 404, 413, 422, 501, 505] {
            guard case .rejected = DeliveryResult.classify(status: status, body: "", retryAfter: nil, wasCompressed: false) else {
                Issue.record("HTTP \(status) must not be retried")
                continue
            }
        }
        #expect(DeliveryResult.classify(status: 415, body: "", retryAfter: nil, wasCompressed: true) == .uncompressedOnly)
        #expect(DeliveryResult.classify(
            status: 400, body: #"{"error":{"code":"invalid_json"}}"#, retryAfter: nil, wasCompressed: true) == .uncompressedOnly)
        guard case .rejected = DeliveryResult.classify(
            status: 400, body: #"{"error":{"code":"invalid_json"}}"#, retryAfter: nil, wasCompressed: false)
        else { Issue.record("invalid_json on an uncompressed body is a rejection"); return }
    }
}

struct RecordTests {
    @Test func aFullBufferDropsNewEventsAndCountsThem() {
        var configuration = ReporterConfiguration(endpoint: "http://127.0.0.1:9")
        configuration.bufferCapacity = 100
        let reporter = DecisionReporter(configuration: configuration)
        for i in 0..<20_000 { reporter.record(service: "s", operation: "o", outcome: .miss, key: "k\(i)") }
        reporter.record(service: "not valid", operation: "o", outcome: .miss)
        let statistics = reporter.statistics
        #expect(statistics.recorded == 100)
        #expect(statistics.bufferDepth == 100)
        #expect(statistics.dropped == ["buffer_full": 19_900, "invalid": 1])
    }
}
