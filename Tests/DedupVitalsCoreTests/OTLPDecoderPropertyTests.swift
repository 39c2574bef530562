import DedupVitalsCore
import Foundation
import PropertyBased
import Testing

/// Properties of the two OTLP logs decoders: the protobuf and the JSON form of one request decode to the same
/// events, exactly those that were encoded; hostile bytes never crash either decoder, and whatever they accept
/// satisfies the event rules, with every record counted once as an event, an ignored or a rejected record.
@Suite struct OTLPDecoderPropertyTests {
    static let nowMs: Int64 = 1_800_000_000_000
    static let operations = ["refund", "capture", "create_ticket", "tool.call"]

    /// A decision (or, every seventh, a record of another event name) derived from one generated number.
    struct Record {
        var eventName: String
        var operation: String
        var outcome: Outcome
        var key: String?
        var ageMs: Int64?
        var trace: TraceContext?
        var timeMs: Int64

        init(seed: Int) {
            eventName = seed % 7 == 6 ? "http.request" : DecisionConvention.eventName
            operation = OTLPDecoderPropertyTests.operations[seed % 4]
            outcome = Outcome.allCases[(seed / 4) % Outcome.allCases.count]
            key = seed % 3 == 0 ? nil : "key-\(seed)-é"
            ageMs = seed % 5 == 0 ? Int64(seed * 37) : nil
            trace =
                seed % 2 == 0 ? TraceContext(traceHigh: UInt64(seed) &* 0x9E37_79B9, traceLow: 1, span: UInt64(seed % 4)) : nil
            timeMs = OTLPDecoderPropertyTests.nowMs - Int64(seed % 1000) * 1000
        }

        var event: Event? {
            guard eventName == DecisionConvention.eventName else { return nil }
            return Event(
                service: "payments", operation: operation, outcome: outcome, key: key, timeMs: timeMs, ageMs: ageMs,
                trace: trace)
        }

        var attributes: [(String, Any)] {
            var all: [(String, Any)] = [("dedup_vitals.operation", operation), ("dedup_vitals.outcome", outcome.name)]
            if let key { all.append(("dedup_vitals.key", key)) }
            if let ageMs { all.append(("dedup_vitals.age_ms", ageMs)) }
            return all
        }
    }

    // MARK: Encoders (the request as an exporter writes it)

    static func protobuf(_ records: [Record]) -> [UInt8] {
        func varint(_ value: UInt64, _ out: inout [UInt8]) {
            var rest = value
            while rest >= 0x80 {
                out.append(UInt8(truncatingIfNeeded: rest) | 0x80)
                rest >>= 7
            }
            out.append(UInt8(rest))
        }
        func field(_ number: UInt64, _ bytes: [UInt8], _ out: inout [UInt8]) {
            varint(number << 3 | 2, &out)
            varint(UInt64(bytes.count), &out)
            out += bytes
        }
        func keyValue(_ key: String, _ value: Any) -> [UInt8] {
            var any: [UInt8] = []
            if let int = value as? Int64 {
                varint(3 << 3, &any)
                varint(UInt64(bitPattern: int), &any)
            } else {
                field(1, Array("\(value)".utf8), &any)
            }
            var out: [UInt8] = []
            field(1, Array(key.utf8), &out)
            field(2, any, &out)
            return out
        }
        var scope: [UInt8] = []
        for record in records {
            var log: [UInt8] = []
            varint(1 << 3 | 1, &log)  // time_unix_nano, fixed64
            log += withUnsafeBytes(of: (UInt64(record.timeMs) * 1_000_000).littleEndian, Array.init)
            for (key, value) in record.attributes { field(6, keyValue(key, value), &log) }
            if let trace = record.trace {
                field(9, trace.traceID, &log)
                if let span = trace.spanID { field(10, span, &log) }
            }
            field(12, Array(record.eventName.utf8), &log)
            field(2, log, &scope)
        }
        var resourceLogs: [UInt8] = []
        var resource: [UInt8] = []
        field(1, keyValue("service.name", "payments"), &resource)
        field(1, resource, &resourceLogs)
        field(2, scope, &resourceLogs)
        var request: [UInt8] = []
        field(1, resourceLogs, &request)
        return request
    }

    /// The JSON form, with the quirks the specification allows: 64-bit integers as strings, ids in hex.
    static func json(_ records: [Record]) -> [UInt8] {
        func keyValue(_ key: String, _ value: Any) -> [String: Any] {
            let any: [String: Any] = value is Int64 ? ["intValue": "\(value)"] : ["stringValue": value]
            return ["key": key, "value": any]
        }
        var logRecords: [[String: Any]] = []
        for record in records {
            var log: [String: Any] = [:]
            log["timeUnixNano"] = String(UInt64(record.timeMs) * 1_000_000)
            log["eventName"] = record.eventName
            log["attributes"] = record.attributes.map { keyValue($0.0, $0.1) }
            log["body"] = ["stringValue": "a log line"]
            if let trace = record.trace {
                log["traceId"] = trace.traceIDHex
                if let span = trace.spanIDHex { log["spanId"] = span }
            }
            logRecords.append(log)
        }
        let body: [String: Any] = [
            "resourceLogs": [
                [
                    "resource": ["attributes": [keyValue("service.name", "payments")]],
                    "scopeLogs": [["scope": ["name": "test"], "logRecords": logRecords]],
                ]
            ]
        ]
        return Array(try! JSONSerialization.data(withJSONObject: body))
    }

    // MARK: Properties

    static func decode(
        _ bytes: [UInt8], json: Bool
    ) -> Result<DecisionConvention.Batch, OTLPDecodingError> {
        var convention = DecisionConvention(nowMs: nowMs, maxDecisions: 50)
        do throws(OTLPDecodingError) {
            if json {
                try OTLPJSONLogsDecoder.decode(bytes, into: &convention)
            } else {
                try OTLPProtobufLogsDecoder.decode(bytes, into: &convention)
            }
        } catch {
            return .failure(error)
        }
        return .success(convention.batch)
    }

    /// What holds for any body: accepted events are valid and every record is counted once.
    static func checkInvariants(_ bytes: [UInt8], json: Bool) {
        switch decode(bytes, json: json) {
        case .success(let batch):
            #expect(batch.records == batch.events.count + batch.ignored + batch.rejected)
            #expect((batch.rejected > 0) == (batch.firstProblem != nil))
            for event in batch.events {
                #expect(EventRules.isValidName(event.service) && EventRules.isValidName(event.operation))
                #expect(event.timeMs >= nowMs - EventRules.maxPastMs && event.timeMs <= nowMs + EventRules.maxFutureMs)
                #expect(event.ageMs.map { $0 >= 0 } ?? true)
                #expect(event.key.map { EventRules.keyLengthRange.contains($0.utf8.count) } ?? true)
            }
        case .failure(.malformed(let message)):
            #expect(!message.isEmpty)
        case .failure(.tooManyDecisions(let limit)):
            #expect(limit == 50)
        }
    }

    @Test func bothEncodingsDecodeToExactlyTheEncodedDecisions() async {
        await propertyCheck(count: 500, input: Gen.int(in: 0...100_000).array(of: 0...40)) { seeds in
            let records = seeds.map(Record.init)
            let expected = records.compactMap(\.event)
            for json in [false, true] {
                guard case .success(let batch) = Self.decode(json ? Self.json(records) : Self.protobuf(records), json: json)
                else {
                    Issue.record("a valid \(json ? "JSON" : "protobuf") request was refused")
                    continue
                }
                #expect(batch.events == expected, "\(json ? "JSON" : "protobuf")")
                #expect(batch.records == records.count && batch.ignored == records.count - expected.count && batch.rejected == 0)
            }
        }
    }

    @Test func randomBytesNeverCrashEitherDecoder() async {
        await propertyCheck(count: 2_000, input: Gen.uint8().array(of: 0...300)) { bytes in
            Self.checkInvariants(bytes, json: false)
            Self.checkInvariants(bytes, json: true)
        }
    }

    /// Random bytes spliced into valid bodies: near-valid input that reaches deep into both decoders.
    @Test func validBodiesWithRandomSplicesKeepTheInvariants() async {
        let records = (0..<6).map(Record.init)
        let bodies = [Self.protobuf(records), Self.json(records)]
        let splice = Gen.uint8(in: 0...255).array(of: 1...4)
        await propertyCheck(count: 2_000, input: Gen.int(in: 0...10_000), splice, Gen.int(in: 0...3)) { at, bytes, cut in
            for (index, body) in bodies.enumerated() {
                var mutated = body
                let start = at % (body.count + 1)
                mutated.replaceSubrange(start..<min(body.count, start + cut), with: bytes)
                Self.checkInvariants(mutated, json: index == 1)
            }
        }
    }
}
