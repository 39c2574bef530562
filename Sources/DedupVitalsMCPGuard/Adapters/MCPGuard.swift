import DedupVitalsCore
import Dispatch
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `dedup-vitals mcp-guard`: starts the server, relays until it exits, and ends with its exit status.
public enum MCPGuard {
    /// Why the guard could not start; the command prints it and exits non-zero.
    public struct StartError: Error, CustomStringConvertible {
        public var description: String
        /// 78 for configuration problems, 1 otherwise.
        public var exitCode: Int32
    }

    /// The default outcome store: `$HOME/.dedup-vitals/mcp-guard.sqlite` (an MCP client starts servers in a working
    /// directory of its choosing, often `/`, so the default does not depend on it).
    public static var defaultDatabase: String {
        let home = ProcessInfo.processInfo.environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSTemporaryDirectory()
        return home + "/.dedup-vitals/mcp-guard.sqlite"
    }

    /// Runs `command` behind the guard; the child's exit status.
    public static func run(config: GuardConfig, command: [String]) async throws(StartError) -> Int32 {
        // A client that goes away must not kill the guard before the server has exited: writes fail with EPIPE.
        signal(SIGPIPE, SIG_IGN)
        let store: OutcomeStore
        let database = config.database ?? defaultDatabase
        do {
            store = try OutcomeStore(path: database)
            try store.purge(beforeMs: GuardRelay.nowMs() - config.dedupWindow.milliseconds)
        } catch {
            throw StartError(description: "cannot open the outcome store \(database): \(error)", exitCode: 78)
        }
        var reporter: DecisionReporter?
        if let report = config.report {
            let token = report.tokenEnv.flatMap { ProcessInfo.processInfo.environment[$0] }
            do {
                reporter = try DecisionReporter(report, token: token)
            } catch {
                throw StartError(description: "report.url: \(error)", exitCode: 78)
            }
        }
        let child: StdioChild
        do {
            child = try StdioChild(command: command)
        } catch {
            throw StartError(description: error.description, exitCode: 127)
        }
        let signals = forwardSignals(to: child)
        defer { signals.forEach { $0.cancel() } }
        let reporting = reporter.map { reporter in Task { await reporter.run() } }

        let relay = GuardRelay(config: config, store: store, reporter: reporter, child: child)
        let clientThread = Thread { relay.relayClient() }
        clientThread.start()
        let status = await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            let serverThread = Thread {
                relay.relayServer()
                continuation.resume(returning: child.waitForExit())
            }
            serverThread.start()
        }
        if let reporter, let reporting { await finish(reporter, reporting) }
        return status
    }

    /// How long the guard sends what is left after the server exited. Short: a client gives its server 2 s after
    /// closing its input before it sends SIGTERM (the Python SDK does), and the server needs some of that to exit.
    static let drain = Duration.seconds(1)

    /// Sends what is left for at most ``drain``, then says what was not reported.
    private static func finish(_ reporter: DecisionReporter, _ reporting: Task<Void, Never>) async {
        reporter.stop(drain: drain)
        let deadline = Task {
            try? await Task.sleep(for: drain)
            reporting.cancel()
        }
        await reporting.value
        deadline.cancel()
        let counts = reporter.counts
        if counts.dropped + counts.unsent > 0 {
            GuardLog.write(
                "\(counts.dropped + counts.unsent) decisions were not reported to dedup-vitals "
                    + "(\(counts.dropped) dropped from a full buffer, \(counts.unsent) not delivered in time)")
        }
    }

    /// SIGINT, SIGTERM and SIGHUP go to the server, whose exit then ends the guard.
    private static func forwardSignals(to child: StdioChild) -> [any DispatchSourceSignal] {
        [SIGINT, SIGTERM, SIGHUP].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { child.signal(number) }
            source.resume()
            return source
        }
    }
}
