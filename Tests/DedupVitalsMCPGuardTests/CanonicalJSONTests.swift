import DedupVitalsMCPGuard
import Testing

/// The canonical text decides which calls are "the same call": spelling must not matter, meaning must.
@Suite("canonical JSON")
struct CanonicalJSONTests {
    static func canonical(_ text: String) throws -> String {
        CanonicalJSON.text(try #require(JSONValue(parsing: Array(text.utf8))))
    }

    @Test("key order, whitespace and number spelling do not change the text")
    func spellingDoesNotMatter() throws {
        let a = try Self.canonical(#"{"b": [1, 2.0, 3e0], "a": {"y": true, "x": null}}"#)
        let b = try Self.canonical(#"{"a":{"x":null,"y":true},"b":[1.0,2,3]}"#)
        #expect(a == b)
        #expect(a == #"{"a":{"x":null,"y":true},"b":[1,2,3]}"#)
    }

    @Test("values that differ in meaning differ in text")
    func meaningMatters() throws {
        #expect(try Self.canonical(#"{"n": 1}"#) != Self.canonical(#"{"n": "1"}"#))
        #expect(try Self.canonical(#"{"n": 1.5}"#) == #"{"n":1.5}"#)
        #expect(try Self.canonical(#"{"flag": true}"#) != Self.canonical(#"{"flag": 1}"#))
        #expect(try Self.canonical(#"[1, 2]"#) != Self.canonical(#"[2, 1]"#))
    }

    @Test("strings are escaped as Python's json.dumps(ensure_ascii=False) escapes them")
    func pythonCompatibleStrings() throws {
        #expect(try Self.canonical(#"["a\"b\\c\n\t\b\f\u0001", "é ü 日本"]"#) == #"["a\"b\\c\n\t\b\f\u0001","é ü 日本"]"#)
    }

    @Test("member names sort by Unicode scalar, as Python's sort_keys does")
    func scalarOrder() throws {
        #expect(try Self.canonical(#"{"b": 1, "B": 2, "é": 3, "a": 4}"#) == #"{"B":2,"a":4,"b":1,"é":3}"#)
    }

    @Test("text that is not JSON does not parse")
    func notJSON() {
        #expect(JSONValue(parsing: Array("{\"a\":".utf8)) == nil)
        #expect(JSONValue(parsing: Array("hello".utf8)) == nil)
    }
}
