import DedupVitalsCore
import Foundation
import PropertyBased
import Testing

/// Properties of the ingest decoder over hostile input: it never crashes, every refusal is a typed error that
/// points into the body, and whatever it accepts satisfies the event rules.
@Suite struct EventDecoderPropertyTests {
    static let nowMs: Int64 = 1_800_000_000_000
    static let decoder = EventDecoder(maxEvents: 100)

    static func decode(_ bytes: [UInt8], _ format: BodyFormat) -> Result<[Event], EventDecodingError> {
        Result { () throws(EventDecodingError) in try decoder.decode(bytes, format: format, nowMs: nowMs) }
    }

    static func event(_ i: Int, extra: String = "") -> String {
        #"{"service":"svc\#(i)","operation":"op","outcome":"miss","key":"k\#(i)"\#(extra)}"#
    }

    /// Checks what holds for any body: an error has a position inside the body; accepted events are valid.
    static func checkInvariants(_ bytes: [UInt8], _ format: BodyFormat) {
        switch decode(bytes, format) {
        case .success(let events):
            for event in events {
                #expect(EventRules.isValidName(event.service) && EventRules.isValidName(event.operation))
                #expect(event.timeMs >= nowMs - EventRules.maxPastMs && event.timeMs <= nowMs + EventRules.maxFutureMs)
                #expect(event.ageMs.map { $0 >= 0 } ?? true)
            }
        case .failure(.invalidJSON(let message, let line, let column)):
            #expect(!message.isEmpty && line >= 1 && column >= 1)
            #expect(line <= bytes.count(where: { $0 == 0x0A }) + 1)
        case .failure(.invalidEvent(let message, let index, _)):
            #expect(!message.isEmpty && index >= 0)
        case .failure(.tooManyEvents(let limit)):
            #expect(limit == 100)
        }
    }

    @Test func randomBytesNeverCrashTheDecoder() async {
        await propertyCheck(count: 2_000, input: Gen.uint8().array(of: 0...300)) { bytes in
            Self.checkInvariants(bytes, .json)
            Self.checkInvariants(bytes, .ndjson)
        }
    }

    /// Random bytes spliced into a valid body: mostly near-valid input that reaches deep into the parser.
    @Test func validBodiesWithRandomSplicesKeepTheInvariants() async {
        let body = Array(
            ("[" + (0..<3).map { Self.event($0, extra: #","ts":1800000000,"age_ms":5"#) }.joined(separator: ",") + "]").utf8)
        let splice = Gen.uint8(in: 0...255).array(of: 1...4)
        await propertyCheck(count: 2_000, input: Gen.int(in: 0...body.count), splice, Gen.int(in: 0...3)) { at, bytes, cut in
            var mutated = body
            mutated.replaceSubrange(at..<min(body.count, at + cut), with: bytes)
            Self.checkInvariants(mutated, .json)
            Self.checkInvariants(mutated.map { $0 == UInt8(ascii: ",") ? 0x0A : $0 }, .ndjson)
        }
    }

    @Test func truncatedJSONIsAlwaysInvalidJSON() async {
        let body = Array(("[" + (0..<4).map { Self.event($0) }.joined(separator: ",") + "]").utf8)
        await propertyCheck(count: 500, input: Gen.int(in: 1...(body.count - 1))) { length in
            guard case .failure(.invalidJSON) = Self.decode(Array(body[..<length]), .json) else {
                Issue.record("a body cut to \(length) bytes was not refused as invalid JSON")
                return
            }
        }
    }

    /// A line of NDJSON cut inside its object is refused, and the error names that line.
    @Test func truncatedNDJSONNamesTheCutLine() async {
        let lines = (0..<5).map { Self.event($0) }
        await propertyCheck(count: 500, input: Gen.int(in: 0...4), Gen.int(in: 1...40)) { line, keep in
            let text = lines[..<line].map { $0 + "\n" }.joined() + String(lines[line].prefix(keep))
            guard case .failure(.invalidJSON(_, let reported, _)) = Self.decode(Array(text.utf8), .ndjson) else {
                Issue.record("NDJSON cut inside line \(line + 1) was not refused as invalid JSON")
                return
            }
            #expect(reported == line + 1)
        }
    }

    static let hostileNameParts: [String] = [
        #"\""#, #"\\"#, #"\n"#, #"\u0000"#, #"\u0001"#, #"\u001b[31m"#, "\u{202E}", "\u{200B}", "\u{FEFF}",
        "а", "ρ", "ｐ", "ß", "İ", "💳", " ", #"\t"#, "}", "{", ",", "=",
        "/", ":", "'", "`", "$", "%", "\u{0301}", "\u{00A0}", "ǅ",
    ]

    /// Control characters (escaped), quotes, backslashes and Unicode lookalikes in a name: refused as an invalid
    /// event naming the field and index.
    @Test func hostileCharactersInNamesAreRefused() async {
        let part = Gen<String?>.element(of: Self.hostileNameParts).compactMap { $0 }
        let field = Gen<String?>.element(of: ["service", "operation", "client"]).compactMap { $0 }
        await propertyCheck(count: 1_000, input: part, field, Gen.int(in: 0...6), Gen.int(in: 0...2)) { part, field, at, index in
            let name = String("payments".prefix(at)) + part + String("payments".dropFirst(at))
            var events = (0..<3).map { Self.event($0) }
            events[index] = events[index].replacingOccurrences(of: #""svc\#(index)""#, with: #""svc\#(index)","client":"c""#)
            let fieldPattern = #""\#(field)":""#
            let start = events[index].range(of: fieldPattern)!.upperBound
            let stop = events[index][start...].firstIndex(of: "\"")!
            events[index].replaceSubrange(start..<stop, with: name)
            let result = Self.decode(Array(("[" + events.joined(separator: ",") + "]").utf8), .json)
            guard case .failure(.invalidEvent(_, let reportedIndex, let reportedField)) = result else {
                Issue.record("name \(name.debugDescription) in \(field) was not refused as an invalid event: \(result)")
                return
            }
            #expect(reportedIndex == index && reportedField == field)
        }
    }

    /// Raw (unescaped) control characters anywhere in a string are a JSON syntax error.
    @Test func rawControlCharactersAreInvalidJSON() async {
        let body = Self.event(0)
        await propertyCheck(count: 300, input: Gen.uint8(in: 0...0x1F), Gen.int(in: 2...8)) { byte, at in
            var bytes = Array(body.utf8)
            bytes.insert(byte, at: at)
            guard case .failure(.invalidJSON) = Self.decode(bytes, .json) else {
                Issue.record("raw byte \(byte) inside a name was accepted")
                return
            }
        }
    }

    static let invalidUTF8: [[UInt8]] = [
        [0x80], [0xBF], [0xC0, 0xAF], [0xC1, 0xBF], [0xC3], [0xC3, 0x28], [0xE2, 0x82], [0xED, 0xA0, 0x80],
        [0xF0, 0x82, 0x82, 0xAC], [0xF4, 0x90, 0x80, 0x80], [0xF5], [0xFE], [0xFF], [0xE0, 0x80, 0x80],
    ]

    @Test func invalidUTF8InAnyStringIsInvalidJSON() async {
        let field = Gen<String?>.element(of: ["service", "operation", "outcome", "key"]).compactMap { $0 }
        await propertyCheck(count: 500, input: Gen.int(in: 0...13), field) { which, field in
            let text = Self.event(0)
            let valueStart = text.range(of: #""\#(field)":""#)!.upperBound
            var bytes = Array(text.utf8)
            bytes.insert(contentsOf: Self.invalidUTF8[which], at: text.utf8.distance(from: text.utf8.startIndex, to: valueStart))
            guard case .failure(.invalidJSON) = Self.decode(bytes, .json) else {
                Issue.record("invalid UTF-8 \(Self.invalidUTF8[which]) in \(field) was accepted")
                return
            }
        }
    }

    /// Huge, tiny, negative and exotic numbers for `ts` and `age_ms`: accepted only when in range, else refused with the field.
    @Test func hugeAndExoticNumbersAreRefusedWithTheirField() async {
        let digits = Gen.character(in: "0"..."9").string(of: 20...400)
        let form = Gen.int(in: 0...5)
        let field = Gen<String?>.element(of: ["ts", "age_ms"]).compactMap { $0 }
        await propertyCheck(count: 1_000, input: digits, form, field) { digits, form, field in
            let number =
                switch form {
                case 0: "9" + digits
                case 1: "-9" + digits
                case 2: "1e" + digits
                case 3: "-1e" + digits
                case 4: "0." + digits + "1"
                default: "1" + digits + ".5e-3"
                }
            let result = Self.decode(Array(Self.event(0, extra: #","\#(field)":\#(number)"#).utf8), .json)
            switch result {
            case .failure(.invalidEvent(_, 0, let reported)): #expect(reported == field)
            case .success(let events): #expect(field == "age_ms" ? events[0].ageMs != nil : true)
            default: Issue.record("\(field)=\(number) gave \(result)")
            }
        }
    }

    static let nonJSONNumbers = [
        "NaN", "-NaN", "Infinity", "-Infinity", "+1", "01", ".5", "1.", "1e", "0x10", "1_000", "--1", "1e+",
    ]

    /// Refused as invalid JSON, or, when a prefix of the token is itself a number out of the field's range (`0` of
    /// `0x10` as a `ts`), as an invalid event naming the field: the decoder reports the first problem in scan order.
    @Test func nonJSONNumbersAreRefused() async {
        await propertyCheck(count: 200, input: Gen<String?>.element(of: Self.nonJSONNumbers).compactMap { $0 }, Gen.bool) {
            number, ts in
            let field = ts ? "ts" : "age_ms"
            switch Self.decode(Array(Self.event(0, extra: #","\#(field)":\#(number)"#).utf8), .json) {
            case .failure(.invalidJSON): break
            case .failure(.invalidEvent(_, 0, let reported)) where reported == field: break
            case let other: Issue.record("\(field): \(number) gave \(other)")
            }
        }
    }

    @Test func deepNestingIsRefusedWithoutExhaustingTheStack() async {
        await propertyCheck(count: 100, input: Gen.int(in: 33...20_000), Gen.bool) { depth, objects in
            let open = objects ? String(repeating: #"{"a":"#, count: depth) : String(repeating: "[", count: depth)
            let close = String(repeating: objects ? "}" : "]", count: depth)
            let bytes = Array(Self.event(0, extra: #","x":\#(open)1\#(close)"#).utf8)
            guard case .failure(.invalidJSON) = Self.decode(bytes, .json) else {
                Issue.record("nesting depth \(depth) was accepted")
                return
            }
            guard case .failure = Self.decode(Array((open + close).utf8), .json) else {
                Issue.record("a bare nested value of depth \(depth) was accepted")
                return
            }
        }
    }

    static let fields = [
        (#""service""#, #""payments""#), (#""operation""#, #""refund""#), (#""outcome""#, #""hit""#), (#""key""#, #""k""#),
        (#""payload""#, #""p""#), (#""client""#, #""web""#), (#""ts""#, "1800000000"), (#""age_ms""#, "3"),
    ]

    @Test func aFieldGivenTwiceIsRefusedWithItsName() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0...7), Gen.int(in: 0...1)) { which, escaped in
            let members = Self.fields.map { "\($0.0):\($0.1)" }
            var name = Self.fields[which].0
            if escaped == 1 { name = "\"\\u00\(String(name.utf8.dropFirst().first!, radix: 16))" + name.dropFirst(2) }
            let body = "{" + members.joined(separator: ",") + ",\(name):\(Self.fields[which].1)}"
            let result = Self.decode(Array(body.utf8), .json)
            guard case .failure(.invalidEvent(_, 0, let field)) = result else {
                Issue.record("duplicated \(name) gave \(result)")
                return
            }
            #expect(field == String(Self.fields[which].0.dropFirst().dropLast()))
        }
    }
}
