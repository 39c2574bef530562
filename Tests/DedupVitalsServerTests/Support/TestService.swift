import AsyncHTTPClient
import DedupVitalsCore
import DedupVitalsServer
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// A dedup-vitals service running in-process on a free loopback port with a database in a temp dir.
final class TestService: Sendable {
    let service: DedupVitalsService
    let baseURL: String
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    /// Starts a service; `configure` adjusts the configuration (the database path is already set); token secrets
    /// are read from `environment`.
    static func start(
        database: String, clock: @escaping @Sendable () -> Int64 = DedupVitalsService.systemClock,
        alertingOptions: AlertingOptions? = nil, environment: [String: String] = [:],
        configure: (inout ServiceConfig) -> Void = { _ in }
    ) async throws -> TestService {
        var config = ServiceConfig()
        config.database = database
        config.listen = .init(host: "127.0.0.1", port: 0)
        configure(&config)
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let credentials = try Credentials.resolve(config, environment: environment, file: "test")
        let service = try DedupVitalsService(
            config: config, logger: logger, clock: clock, alertingOptions: alertingOptions, credentials: credentials)
        let (stream, continuation) = AsyncStream.makeStream(of: String.self)
        let app = service.makeApplication { address in continuation.yield(address) }
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task { try await group.run() }
        var iterator = stream.makeAsyncIterator()
        guard let address = await iterator.next() else { throw TestFailure("service did not start") }
        return TestService(service: service, baseURL: "http://\(address)", group: group, task: task)
    }

    private init(service: DedupVitalsService, baseURL: String, group: ServiceGroup, task: Task<Void, any Error>) {
        self.service = service
        self.baseURL = baseURL
        self.group = group
        self.task = task
    }

    /// Graceful shutdown: in-flight requests finish, pending writes commit, the database closes.
    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A temporary directory removed at deinit.
final class TemporaryDirectory: Sendable {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "dedup-vitals-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func file(_ name: String) -> String { path + "/" + name }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}
