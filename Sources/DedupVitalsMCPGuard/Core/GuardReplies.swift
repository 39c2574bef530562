import DedupVitalsCore

/// The JSON-RPC answers the guard writes itself, instead of the server: replays and MCP tool errors. A tool error is a
/// `CallToolResult` with `isError: true` (the MCP way for a tool to fail so that the model sees why), not a
/// JSON-RPC error, as Stripe answers a reused key with 422 rather than a transport failure.
public enum GuardReplies {
    /// The `_meta` member the guard adds to what it answers itself.
    public static let metaKey = "dedup-vitals/mcp-guard"

    /// The stored result of the first call, answered to the repeat `request` and marked as a replay in `_meta`.
    public static func replay(request: JSONValue, stored: GuardPolicy.Stored, intentKey: IntentKey) -> String {
        var result = stored.result.object ?? [:]
        var meta = result["_meta"]?.object ?? [:]
        meta[metaKey] = .object([
            "outcome": .string("hit"),
            "replayed": .bool(true),
            "intent_key": .string(intentKey.reported),
            "first_call": .string(RFC3339.format(milliseconds: stored.firstMs)),
            "completed": .string(RFC3339.format(milliseconds: stored.completedMs)),
        ])
        result["_meta"] = .object(meta)
        return response(request: request, result: .object(result))
    }

    /// A tool error for the repeat `request`: `outcome` is `in_flight` or `mismatch`, `message` what the model reads.
    public static func toolError(request: JSONValue, outcome: Outcome, message: String, intentKey: IntentKey) -> String {
        response(
            request: request,
            result: .object([
                "content": .array([.object(["type": .string("text"), "text": .string(message)])]),
                "isError": .bool(true),
                // Required from protocol 2026-07-28 on; an unknown member to earlier clients, which they ignore.
                "resultType": .string("complete"),
                "_meta": .object([
                    metaKey: .object(["outcome": .string(outcome.name), "intent_key": .string(intentKey.reported)])
                ]),
            ]))
    }

    /// The server's answer `answer` (an error or a tool error of the first call), addressed to the waiting repeat
    /// `request` instead.
    public static func readdressed(_ answer: JSONValue, to request: JSONValue) -> String {
        var members = answer.object ?? [:]
        members["id"] = request
        return CanonicalJSON.text(.object(members))
    }

    static func response(request: JSONValue, result: JSONValue) -> String {
        CanonicalJSON.text(.object(["jsonrpc": .string("2.0"), "id": request, "result": result]))
    }
}
