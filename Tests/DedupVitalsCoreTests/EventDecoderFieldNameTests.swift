import Testing

@testable import DedupVitalsCore

/// The decoder recognizes a member name by comparing its bytes as words with the field names' (``EventDecoder``):
/// every field name, written plainly or with escapes, is known, and a name one byte away from one is not.
@Suite struct EventDecoderFieldNameTests {
    static let now: Int64 = 1_800_000_000_000
    let decoder = EventDecoder(maxEvents: 100)

    /// Every field with a value, and the name of each.
    static let fields: [(name: String, value: String)] = [
        ("service", #""payments""#), ("operation", #""refund""#), ("outcome", #""hit""#), ("key", #""k-1""#),
        ("payload", #""p-1""#), ("client", #""api.gw-1""#), ("ts", "1800000000"), ("age_ms", "250"),
        ("trace_id", #""4bf92f3577b34da6a3ce929d0e0e4736""#), ("span_id", #""00f067aa0ba902b7""#),
    ]

    func decode(_ text: String) throws(EventDecodingError) -> [Event] {
        try decoder.decode(Array(text.utf8), format: .json, nowMs: Self.now)
    }

    static func body(_ name: (String) -> String) -> String {
        "{" + fields.map { #""\#(name($0.name))":\#($0.value)"# }.joined(separator: ",") + "}"
    }

    /// `\u` escapes for the whole name, the spelling the decoder reads from decoded bytes, not in place.
    static func escaped(_ name: String) -> String {
        name.utf8.map { "\\u00" + String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    @Test func everyFieldNameIsKnownPlainOrEscaped() throws {
        let plain = try decode(Self.body { $0 })
        #expect(plain.count == 1)
        let event = try #require(plain.first)
        #expect(event.service == "payments" && event.operation == "refund" && event.outcome == .hit)
        #expect(event.key == "k-1" && event.payload == "p-1" && event.client == "api.gw-1")
        #expect(event.timeMs == 1_800_000_000_000 && event.ageMs == 250)
        #expect(event.trace?.spanIDHex == "00f067aa0ba902b7")
        #expect(try decode(Self.body(Self.escaped)) == plain)
        // A name is known once: written twice, plainly and escaped, it is a duplicate.
        for field in Self.fields {
            let twice = Self.body { $0 }.dropLast() + #","\#(Self.escaped(field.name))":\#(field.value)}"#
            guard case .invalidEvent(let message, _, let name) = error(String(twice)) else {
                Issue.record("\(field.name) written twice was accepted")
                continue
            }
            #expect(name == field.name && message.contains("more than once"))
        }
    }

    @Test func theFieldWordsAreTheNamesFirstEightBytes() {
        func word(_ name: String) -> UInt64 {
            name.utf8.prefix(8).enumerated().reduce(0) { $0 | UInt64($1.element) << UInt64(8 * $1.offset) }
        }
        typealias Words = EventParser.FieldWords
        let words: [(String, UInt64)] = [
            ("ts", Words.ts), ("key", Words.key), ("client", Words.client), ("age_ms", Words.ageMs),
            ("service", Words.service), ("outcome", Words.outcome), ("payload", Words.payload),
            ("span_id", Words.spanID), ("trace_id", Words.traceID), ("operation", Words.operation),
        ]
        #expect(Set(words.map(\.0)) == Set(Self.fields.map(\.name)))
        for (name, constant) in words { #expect(constant == word(name), "\(name)") }
    }

    @Test func aNameOneByteAwayFromAFieldIsUnknown() throws {
        let known = Set(Self.fields.map(\.name))
        for field in Self.fields {
            var variants: [String] = [String(field.name.dropLast()), field.name + "s", "_" + field.name]
            let bytes = Array(field.name.utf8)
            for position in bytes.indices {
                var changed = bytes
                changed[position] ^= 0x20  // the other case of a letter; "_" becomes DEL
                variants.append(String(decoding: changed, as: UTF8.self))
            }
            for variant in variants where !known.contains(variant) {
                // Known, the variant would set its field (a second time: a duplicate) or reject the number as a
                // string field's value; unknown, it is skipped.
                for name in [variant, Self.escaped(variant)] {
                    let text = Self.body { $0 }.dropLast() + #","\#(name)":[1]}"#
                    #expect(throws: Never.self, "\(variant)") { try decode(String(text)) }
                }
            }
        }
    }

    @Test func namesAtTheEndOfTheBodyAreReadWithinIt() throws {
        // The last name's bytes end the input: a shorter read than a word.
        for field in Self.fields {
            #expect(error(#"{"\#(field.name)"#) != nil)
            #expect(error(#"{"\#(field.name)""#) != nil)
        }
        // A short unknown name right before the end is skipped like any other.
        #expect(try decode(#"[{"service":"s","operation":"o","outcome":"hit","zz":1}]"#).count == 1)
    }

    func error(_ text: String) -> EventDecodingError? {
        do {
            _ = try decode(text)
            return nil
        } catch {
            return error
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
