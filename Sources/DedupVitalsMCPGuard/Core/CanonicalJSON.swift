/// The canonical JSON text of a value: object members sorted by the Unicode scalars of their names, no whitespace,
/// integral numbers written as integers (`1.0` → `1`), other numbers in Swift's shortest round-trip form, strings
/// escaped as Python's `json.dumps(..., ensure_ascii=False)` escapes them (`\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`,
/// other control characters as `\u00XX`, everything else as itself).
///
/// Two argument objects that mean the same thing get the same text however the client spelled them, so they get one
/// intent key. Python's `json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` gives the same
/// text for the usual arguments (strings, integers, booleans, nested objects), which the CI script relies on.
public enum CanonicalJSON {
    public static func text(_ value: JSONValue) -> String {
        var out = ""
        write(value, to: &out)
        return out
    }

    static func write(_ value: JSONValue, to out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let flag): out += flag ? "true" : "false"
        case .integer(let integer): out += String(integer)
        case .double(let number): out += "\(number)"
        case .string(let text): writeString(text, to: &out)
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                write(item, to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (index, name) in sortedNames(members.keys).enumerated() {
                if index > 0 { out += "," }
                writeString(name, to: &out)
                out += ":"
                write(members[name] ?? .null, to: &out)
            }
            out += "}"
        }
    }

    /// Names in the order of their Unicode scalars (Swift's `<` on strings compares canonical equivalents equal).
    static func sortedNames(_ names: some Sequence<String>) -> [String] {
        names.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) { $0.value < $1.value } }
    }

    /// The escapes Python's `json.dumps` writes; other control characters become `\u00XX`.
    static let shortEscapes: [Unicode.Scalar: String] = [
        "\"": "\\\"", "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\u{08}": "\\b", "\u{0C}": "\\f",
    ]

    static func writeString(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            if let escape = shortEscapes[scalar] {
                out += escape
            } else if scalar.value < 0x20 {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
