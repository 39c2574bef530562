import ArgumentParser
import DedupVitalsTerminal
import Foundation

/// `dedup-vitals top`: the terminal dashboard over a running service.
struct TopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "Terminal dashboard over a running service.",
        discussion: """
            Keys: q/Esc quit · ↑↓/jk select · Enter details (Esc back) · s sort · / filter · r refresh · ? help.
            Honours NO_COLOR. Sends DEDUP_VITALS_TOKEN as a bearer token when set.
            """
    )

    @OptionGroup var service: ServiceOptions

    @Option(name: .long, help: "Seconds between refreshes.")
    var refresh = 2.0

    @Flag(name: .long, help: "Print one frame to stdout and exit (no colours or escape sequences unless stdout is a terminal).")
    var once = false

    func validate() throws {
        guard refresh >= 0.1, refresh <= 3600 else { throw ValidationError("--refresh must be between 0.1 and 3600 seconds") }
    }

    func run() async throws {
        let client = try service.client()
        let fetcher = DashboardFetcher(client: client)
        let noColor = !(ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
        if once {
            let isTerminal = TerminalSession.isTerminal(STDOUT_FILENO)
            let size =
                ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init)
                .map { TerminalSize(columns: $0, rows: TerminalSize.standard.rows) }
                ?? TerminalSize(columns: 120, rows: TerminalSize.standard.rows)
            do {
                let lines = try await DashboardOnce.frame(
                    fetcher: fetcher, size: isTerminal ? TerminalSession.size(of: STDOUT_FILENO) ?? size : size,
                    color: isTerminal && !noColor, fitContent: true, utcOffsetSeconds: TimeZone.current.secondsFromGMT())
                print(lines.joined(separator: "\n"))
            } catch {
                printError(error.description)
                throw ExitCodes.failure
            }
            return
        }
        do {
            try await DashboardApp(fetcher: fetcher, refreshSeconds: refresh, color: !noColor).run()
        } catch {
            printError(error.description)
            throw ExitCodes.failure
        }
    }
}
