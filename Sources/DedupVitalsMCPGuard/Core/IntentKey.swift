import Crypto
import DedupVitalsCore

/// What one `tools/call` means: two calls with the same key are the same action, asked for twice.
///
/// The key is the tool name and the canonical JSON of the arguments that make up the intent: by default every
/// argument but the ignored ones; with `key_fields`, only those. The fingerprint covers every argument but the
/// ignored ones, so two calls with one key and different other arguments are a `mismatch`, not a replay
/// (docs/mcp-guard.md#intent-keys).
public struct IntentKey: Sendable, Hashable {
    public let tool: String
    /// `TOOL:CANONICAL-JSON`, e.g. `create_ticket:{"conversation":"c-7","type":"bug"}`.
    public let text: String
    /// SHA-256 of the canonical JSON of every argument but the ignored ones, hex.
    public let fingerprint: String

    public init(tool: String, arguments: JSONValue?, rule: GuardConfig.ToolRule) {
        var members = arguments?.object ?? [:]
        for field in rule.ignoreFields { members[field] = nil }
        let payload = CanonicalJSON.text(arguments.map { $0.object == nil ? $0 : .object(members) } ?? .object([:]))
        let intent: String
        if let keyFields = rule.keyFields {
            // A key field the call leaves out is part of the intent too (as null): leaving it out means something.
            intent = CanonicalJSON.text(.object(Dictionary(uniqueKeysWithValues: keyFields.map { ($0, members[$0] ?? .null) })))
        } else {
            intent = payload
        }
        self.tool = tool
        self.text = tool + ":" + intent
        self.fingerprint = Self.sha256(payload)
    }

    /// What identifies the key in the outcome store: SHA-256 of the service and the key text (the raw arguments are
    /// not needed to find an outcome).
    public func storeID(service: String) -> String { Self.sha256(service + "\n" + text) }

    /// The key as reported to dedup-vitals: the text itself when it fits the 255 bytes of an event's `key`, else its
    /// SHA-256 (`sha256:HEX`).
    public var reported: String {
        text.utf8.count <= EventRules.keyLengthRange.upperBound ? text : "sha256:" + Self.sha256(text)
    }

    static func sha256(_ text: String) -> String {
        SHA256.hash(data: Array(text.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
    }
}
