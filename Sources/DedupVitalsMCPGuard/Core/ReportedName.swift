import DedupVitalsCore

/// Tool and client names as dedup-vitals accepts them (`[A-Za-z_][A-Za-z0-9_.-]{0,63}`, docs/reference/events.md):
/// MCP allows more (`Visual Studio Code`, `github/create_issue`), so every other character becomes `_`.
public enum ReportedName {
    public static func of(_ name: String) -> String {
        if EventRules.isValidName(name) { return name }
        var bytes = name.utf8.map { byte -> UInt8 in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"):
                byte
            default: UInt8(ascii: "_")
            }
        }
        if let first = bytes.first, !(first == UInt8(ascii: "_") || first >= UInt8(ascii: "A")) {
            bytes.insert(UInt8(ascii: "_"), at: 0)
        }
        if bytes.isEmpty { bytes = Array("_".utf8) }
        return String(decoding: bytes.prefix(EventRules.maxNameLength), as: UTF8.self)
    }
}
