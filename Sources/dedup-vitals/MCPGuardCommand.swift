import ArgumentParser
import DedupVitalsMCPGuard
import DedupVitalsServer

/// `dedup-vitals mcp-guard [--config FILE] -- COMMAND [ARGS...]`: an MCP client starts this instead of the server
/// (docs/mcp-guard.md). Its stdout is the MCP channel, so everything it says goes to stderr.
struct MCPGuardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp-guard",
        abstract: "Run an MCP server over stdio behind a tool-call idempotency guard.",
        discussion: "Relays JSON-RPC between the MCP client (stdin/stdout) and COMMAND byte for byte; repeats of "
            + "side-effecting tools/call requests are answered from stored outcomes. Exits with COMMAND's status."
    )

    @Option(name: .long, help: "Configuration file (YAML, docs/mcp-guard.md).")
    var config: String?

    @Argument(parsing: .postTerminator, help: "The MCP server's command and arguments, after --.")
    var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("give the server's command after --, e.g. mcp-guard -- npx my-server") }
    }

    func run() async throws {
        var settings = GuardConfig()
        if let config {
            do {
                settings = try GuardConfigLoader.load(path: config)
            } catch {
                for problem in error.problems { printError(problem.description) }
                throw ExitCodes.configuration
            }
        }
        let status: Int32
        do {
            status = try await MCPGuard.run(config: settings, command: command)
        } catch {
            printError("mcp-guard: \(error)")
            throw ExitCode(error.exitCode)
        }
        throw ExitCode(status)
    }
}
