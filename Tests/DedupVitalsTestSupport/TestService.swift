import DedupVitalsServer
import Hummingbird
import Logging
import ServiceLifecycle

/// A dedup-vitals service running in-process on a free loopback port. Prefer
/// ``withService(database:clock:alertingOptions:environment:configure:_:)``, which stops it whatever happens.
public final class TestService: Sendable {
    public let service: DedupVitalsService
    /// `http://127.0.0.1:PORT`.
    public let baseURL: String
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    /// Starts a service; `configure` adjusts the configuration (the database path and a loopback listen address are
    /// already set); token secrets are read from `environment`.
    public static func start(
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
        let (addresses, continuation) = AsyncStream.makeStream(of: String.self)
        let app = service.makeApplication { address in continuation.yield(address) }
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task {
            // A service that fails to start ends the stream, so that the wait below does not hang.
            defer { continuation.finish() }
            try await group.run()
        }
        var iterator = addresses.makeAsyncIterator()
        guard let address = await iterator.next() else {
            try await task.value
            throw TestFailure("the service ended before it listened")
        }
        return TestService(service: service, baseURL: "http://\(address)", group: group, task: task)
    }

    private init(service: DedupVitalsService, baseURL: String, group: ServiceGroup, task: Task<Void, any Error>) {
        self.service = service
        self.baseURL = baseURL
        self.group = group
        self.task = task
    }

    /// Graceful shutdown: in-flight requests finish, pending writes commit, the database closes. Stopping a stopped
    /// service does nothing more.
    public func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }

    /// Runs `body` with this service, then stops it, also when `body` throws (then the body's error is the one
    /// thrown).
    public func scoped<Result>(
        _ body: (TestService) async throws -> Result
    ) async throws -> Result {
        try await runScoped(self, body, tearDown: { try await $0.stop() })
    }
}
