import Foundation

/// The guard's log: stderr only, one line per message, because stdout is the MCP channel to the client.
public enum GuardLog {
    public static func write(_ message: String) {
        FileHandle.standardError.write(Data("dedup-vitals mcp-guard: \(message)\n".utf8))
    }
}
