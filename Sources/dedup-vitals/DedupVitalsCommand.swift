import ArgumentParser
import DedupVitalsServer
import Foundation

/// The `dedup-vitals` executable (docs/reference/configuration.md#command-line).
@main
struct DedupVitalsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dedup-vitals",
        abstract: "Watches the health of idempotency and deduplication in other services.",
        version: DedupVitalsVersion.current,
        subcommands: [
            ServeCommand.self, CheckConfigCommand.self, TopCommand.self, SimulateCommand.self, MCPGuardCommand.self,
        ]
    )
}

/// Exit codes of docs/reference/configuration.md#command-line.
enum ExitCodes {
    static let configuration = ExitCode(78)
    static let failure = ExitCode.failure
}

/// Writes one line to stderr.
func printError(_ message: String) {
    FileHandle.standardError.write(Data("dedup-vitals: \(message)\n".utf8))
}
