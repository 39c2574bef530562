import ArgumentParser
import DedupVitalsCore
import DedupVitalsServer
import DedupVitalsStorage
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals

/// `dedup-vitals serve`: runs the service until SIGINT/SIGTERM, then shuts down gracefully; SIGHUP reloads the
/// configuration.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the service.")

    @Option(name: .long, help: "Configuration file (YAML).")
    var config: String?

    @Option(name: .long, help: "Listen address HOST:PORT (default 127.0.0.1:9470; port 0 picks a free port).")
    var listen: String?

    @Option(name: .long, help: "SQLite database file (default ./dedup-vitals.sqlite).")
    var db: String?

    @Flag(name: .long, help: "Allow listening on a non-loopback address without any auth token configured.")
    var allowUnauthenticated = false

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        if let listen, ServiceConfig.ListenAddress(listen) == nil {
            throw ValidationError("--listen must be HOST:PORT, not \"\(listen)\"")
        }
        if Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
    }

    func run() async throws {
        MemoryTuning.apply()
        // SIGHUP reloads (trapped by the service once it runs); until then it must not end the process.
        signal(SIGHUP, SIG_IGN)
        let source = ConfigurationSource(
            path: config, listen: listen.flatMap(ServiceConfig.ListenAddress.init), database: db,
            allowUnauthenticated: allowUnauthenticated)
        let running: RunningConfiguration
        do {
            running = try source.load()
        } catch {
            for problem in error.problems { printError(problem.description) }
            throw ExitCodes.configuration
        }
        let settings = running.config

        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "dedup-vitals")

        let service: DedupVitalsService
        do {
            service = try DedupVitalsService(running, source: source, logger: logger)
        } catch {
            printError("\(error)")
            switch error {
            case .foreignDatabase, .cannotOpen: throw ExitCodes.configuration
            case .unavailable: throw ExitCodes.failure
            }
        }
        let database = settings.database
        let app = service.makeApplication { address in
            logger.notice("listening", metadata: ["address": "\(address)", "database": "\(database)"])
        }
        do {
            try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
        } catch {
            printError("\(error)")
            throw ExitCodes.failure
        }
    }
}
