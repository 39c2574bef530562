import DedupVitalsMCPGuard
import Foundation
import Testing

/// What the guard answers itself: valid JSON-RPC for the repeat's id, MCP results the client accepts.
@Suite("guard replies")
struct GuardRepliesTests {
    static let key = IntentKey(tool: "append", arguments: .object(["text": .string("a")]), rule: .init())

    static func parsed(_ line: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test("a replay is the stored result for the repeat's id, its own _meta kept, the guard's added")
    func replay() throws {
        let stored = GuardPolicy.Stored(
            fingerprint: Self.key.fingerprint,
            result: .object([
                "content": .array([.object(["type": .string("text"), "text": .string("done")])]),
                "_meta": .object(["io.modelcontextprotocol/serverInfo": .object(["name": .string("s")])]),
            ]), firstMs: 0, completedMs: 1000)
        let answer = try Self.parsed(GuardReplies.replay(request: .string("r-2"), stored: stored, intentKey: Self.key))
        #expect(answer["id"] as? String == "r-2")
        #expect(answer["jsonrpc"] as? String == "2.0")
        let result = try #require(answer["result"] as? [String: Any])
        let meta = try #require(result["_meta"] as? [String: Any])
        #expect(meta["io.modelcontextprotocol/serverInfo"] != nil)
        let mark = try #require(meta[GuardReplies.metaKey] as? [String: Any])
        #expect(mark["outcome"] as? String == "hit")
        #expect(mark["intent_key"] as? String == #"append:{"text":"a"}"#)
        #expect(mark["completed"] as? String == "1970-01-01T00:00:01.000Z")
    }

    @Test("a tool error is a complete CallToolResult with isError, the outcome in _meta")
    func toolError() throws {
        let answer = try Self.parsed(
            GuardReplies.toolError(request: .integer(7), outcome: .mismatch, message: "no", intentKey: Self.key))
        #expect(answer["id"] as? Int == 7)
        let result = try #require(answer["result"] as? [String: Any])
        #expect(result["isError"] as? Bool == true)
        #expect(result["resultType"] as? String == "complete")
        #expect(((result["content"] as? [[String: Any]])?.first?["text"]) as? String == "no")
        #expect(
            ((result["_meta"] as? [String: Any])?[GuardReplies.metaKey] as? [String: Any])?["outcome"] as? String == "mismatch")
    }

    @Test("the first call's error, readdressed to a waiting repeat")
    func readdressed() throws {
        let error = try #require(
            JSONValue(parsing: Array(#"{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"x"}}"#.utf8)))
        let answer = try Self.parsed(GuardReplies.readdressed(error, to: .integer(2)))
        #expect(answer["id"] as? Int == 2)
        #expect((answer["error"] as? [String: Any])?["message"] as? String == "x")
    }
}
