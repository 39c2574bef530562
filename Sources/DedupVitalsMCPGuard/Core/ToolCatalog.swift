/// The tools the server announced in its `tools/list` results, learnt as they pass through the guard: which of them
/// say they are safe to call again (`readOnlyHint: true` or `idempotentHint: true`).
public struct ToolCatalog: Sendable, Equatable {
    /// Tool name → whether its annotations say it is read-only or idempotent.
    public private(set) var safe: [String: Bool] = [:]

    public init() {}

    /// Learns the tools of one `tools/list` result (`{"tools": [{"name": ..., "annotations": {...}}, ...]}`).
    public mutating func learn(fromListResult result: JSONValue) {
        for tool in result["tools"]?.array ?? [] {
            guard let name = tool["name"]?.string else { continue }
            let annotations = tool["annotations"]
            safe[name] = annotations?["readOnlyHint"]?.bool == true || annotations?["idempotentHint"]?.bool == true
        }
    }

    /// Whether calls of `tool` are guarded: as the configuration says, else unless its annotations say it is safe to
    /// repeat. A tool never listed has no annotations that say so: guarded.
    public func isGuarded(_ tool: String, config: GuardConfig) -> Bool {
        if let guarded = config.rule(for: tool).guarded { return guarded }
        return safe[tool] != true
    }
}
