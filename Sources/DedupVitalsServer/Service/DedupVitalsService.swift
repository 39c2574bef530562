import DedupVitalsCore
import DedupVitalsStorage
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// The assembled service: storage, group commit, live state and HTTP routes.
public final class DedupVitalsService: Sendable {
    public let config: ServiceConfig
    public let store: DedupStore
    public let state: LiveState
    let committer: GroupCommitter
    let hasher: KeyHasher
    let clock: @Sendable () -> Int64
    let logger: Logger

    /// Milliseconds since the Unix epoch, from the system clock.
    public static let systemClock: @Sendable () -> Int64 = { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    /// Opens the database and rebuilds the in-memory windows from it.
    public init(config: ServiceConfig, logger: Logger, clock: @escaping @Sendable () -> Int64 = DedupVitalsService.systemClock) throws(StorageError) {
        self.config = config
        self.logger = logger
        self.clock = clock
        let store = try DedupStore(path: config.database, synchronous: config.synchronous == .full ? .full : .normal)
        self.store = store
        self.hasher = KeyHasher(secret: try store.keyHashSecret())
        let loaded = try store.load(
            bucketWidthMs: BucketClock.defaultWidthMs, forensics: config.forensicsSettings,
            maxClientsPerSeries: config.maxClientsPerSeries)
        let state = LiveState(loaded)
        state.prune(nowMs: clock(), retentionMs: config.retention.milliseconds)
        self.state = state
        self.committer = GroupCommitter(
            store: store, clock: clock,
            hooks: .init(prepare: { state.prepare(&$0) }, committed: { state.committed($0) }, failed: { state.failed($0) }))
    }

    /// The router with every route.
    public func makeRouter() -> Router<DedupRequestContext> {
        let router = Router(context: DedupRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        IngestController(
            limits: config.limits, committer: committer, store: store, state: state, clock: clock,
            bucketWidthMs: BucketClock.defaultWidthMs, hasher: hasher
        ).addRoutes(to: router)
        KeyLookupController(hasher: hasher, state: state, config: config, clock: clock).addRoutes(to: router)
        ReadController(config: config, store: store, state: state, clock: clock).addRoutes(to: router)
        return router
    }

    /// The Hummingbird application, with storage maintenance and orderly shutdown attached as a service.
    /// `onListening` receives the bound `HOST:PORT` (useful with port 0).
    public func makeApplication(onListening: @escaping @Sendable (String) async -> Void = { _ in }) -> some ApplicationProtocol {
        let storage = StorageService(store: store, committer: committer, state: state, config: config, clock: clock, logger: logger)
        return Application(
            router: makeRouter(),
            server: .http1(configuration: .init(idleTimeout: .seconds(75))),
            configuration: .init(address: .hostname(config.listen.host, port: config.listen.port), serverName: nil),
            services: [storage],
            onServerRunning: { [config] channel in
                let address = channel.localAddress
                let text = "\(address?.ipAddress ?? config.listen.host):\(address?.port ?? config.listen.port)"
                await onListening(text)
            },
            logger: logger
        )
    }
}
