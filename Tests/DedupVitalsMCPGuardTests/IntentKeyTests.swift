import DedupVitalsMCPGuard
import Testing

/// Intent keys: what makes two calls one action (too broad: different actions collapse; too narrow: a retry looks new).
@Suite("intent keys")
struct IntentKeyTests {
    static func args(_ text: String) -> JSONValue? { JSONValue(parsing: Array(text.utf8)) }

    @Test("by default: the tool and every argument")
    func defaultKey() {
        let key = IntentKey(tool: "append_line", arguments: Self.args(#"{"text": "a", "n": 1.0}"#), rule: .init())
        #expect(key.text == #"append_line:{"n":1,"text":"a"}"#)
        let other = IntentKey(tool: "append_line", arguments: Self.args(#"{"n":1,"text":"a"}"#), rule: .init())
        #expect(key == other)
        #expect(IntentKey(tool: "delete_line", arguments: Self.args(#"{"n":1,"text":"a"}"#), rule: .init()).text != key.text)
    }

    @Test("ignored fields are in neither the key nor the fingerprint: a retry with a new timestamp is a repeat")
    func ignoredFields() {
        let rule = GuardConfig.ToolRule(ignoreFields: ["requested_at"])
        let first = IntentKey(tool: "refund", arguments: Self.args(#"{"order": 42, "requested_at": "12:00"}"#), rule: rule)
        let retry = IntentKey(tool: "refund", arguments: Self.args(#"{"order": 42, "requested_at": "12:01"}"#), rule: rule)
        #expect(first == retry)
        #expect(first.text == #"refund:{"order":42}"#)
    }

    @Test("key fields make the key; the other arguments only the fingerprint (a mismatch when they differ)")
    func keyFields() {
        let rule = GuardConfig.ToolRule(keyFields: ["conversation", "type"], ignoreFields: ["trace"])
        let a = IntentKey(
            tool: "create_ticket", arguments: Self.args(#"{"conversation":"c-7","type":"bug","summary":"x","trace":"1"}"#),
            rule: rule)
        let b = IntentKey(
            tool: "create_ticket", arguments: Self.args(#"{"conversation":"c-7","type":"bug","summary":"y","trace":"2"}"#),
            rule: rule)
        #expect(a.text == #"create_ticket:{"conversation":"c-7","type":"bug"}"#)
        #expect(a.text == b.text)
        #expect(a.fingerprint != b.fingerprint)
        let missing = IntentKey(tool: "create_ticket", arguments: Self.args(#"{"conversation":"c-7"}"#), rule: rule)
        #expect(missing.text == #"create_ticket:{"conversation":"c-7","type":null}"#)
    }

    @Test("a key longer than an event's 255 bytes is reported as its SHA-256")
    func longKeys() {
        let long = IntentKey(tool: "t", arguments: .object(["body": .string(String(repeating: "x", count: 300))]), rule: .init())
        #expect(long.reported.hasPrefix("sha256:"))
        #expect(long.reported.utf8.count == 7 + 64)
        #expect(IntentKey(tool: "t", arguments: nil, rule: .init()).reported == "t:{}")
    }

    @Test("tool and client names are made valid event names")
    func reportedNames() {
        #expect(ReportedName.of("create_ticket") == "create_ticket")
        #expect(ReportedName.of("Visual Studio Code") == "Visual_Studio_Code")
        #expect(ReportedName.of("github/create-issue") == "github_create-issue")
        #expect(ReportedName.of("1password") == "_1password")
        #expect(ReportedName.of("") == "_")
        #expect(ReportedName.of(String(repeating: "a", count: 80)).count == 64)
    }
}
