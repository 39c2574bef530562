import DedupVitalsCore
import DedupVitalsStorage
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOSSL
import ServiceLifecycle
import Synchronization

/// The assembled service: storage, group commit, live state and HTTP routes.
public final class DedupVitalsService: Sendable {
    /// The configuration in force (replaced by a reload, see ``reload()``).
    public var config: ServiceConfig { live.config }
    let live: LiveConfiguration
    /// Where a reload reads the configuration from; nil: the service cannot reload.
    let configurationSource: ConfigurationSource?
    /// Serialises reloads.
    let reloading = Mutex(0)
    public let store: DedupStore
    public let state: LiveState
    /// The write path every ingest protocol hands its events to.
    let pipeline: IngestPipeline
    let hasher: KeyHasher
    let clock: @Sendable () -> Int64
    let logger: Logger
    /// Alert instances, delivery counters and queue depth, as the read endpoints show them.
    public let alerting: AlertingState
    let alertEvaluator: AlertEvaluator
    let webhookDeliverer: WebhookDeliverer
    let alertingOptions: AlertingOptions
    /// What the service measures about itself (request latency, group commit, rule evaluation, reloads).
    public let telemetry: ServiceTelemetry
    /// One bound on in-flight ingest work, whatever the protocol and the listener.
    let pressure: IngestPressure

    /// Milliseconds since the Unix epoch, from the system clock.
    public static let systemClock: @Sendable () -> Int64 = { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    /// Opens the database and rebuilds the in-memory windows from it. `alertingOptions` nil: the rules of
    /// `config` (or the defaults) and no signing keys. `credentials` holds the secrets of `config.tokens` (see
    /// ``Credentials/resolve(_:environment:file:)``); with tokens configured and no credentials given, every `/v1`
    /// request is refused. `configurationSource`: what ``reload()`` reads (SIGHUP, `POST /-/reload`). `tlsContext`:
    /// the context built from `config.tls` (``ConfigurationSource/load()`` builds it; nil: built here).
    public init(
        config: ServiceConfig, logger: Logger, clock: @escaping @Sendable () -> Int64 = DedupVitalsService.systemClock,
        alertingOptions: AlertingOptions? = nil, credentials: Credentials = Credentials(),
        configurationSource: ConfigurationSource? = nil, tlsContext: NIOSSLContext? = nil
    ) throws(StorageError) {
        self.configurationSource = configurationSource
        self.logger = logger
        self.clock = clock
        let store = try DedupStore(path: config.database, synchronous: config.synchronous)
        self.store = store
        self.hasher = KeyHasher(secret: try store.keyHashSecret())
        // `serve` loads the rules itself and refuses to start on a bad rule file. Without them (tests, tools), a bad
        // file leaves the service without its rules, every problem logged and counted once the state exists.
        var ruleFailure: ConfigError?
        let options: AlertingOptions
        if let alertingOptions {
            options = alertingOptions
        } else {
            do {
                options = AlertingOptions(rules: try AlertRuleLoader.load(for: config))
            } catch {
                options = AlertingOptions(rules: [])
                ruleFailure = error
            }
        }
        var tlsFailure: ConfigError?
        var tls = tlsContext
        if tls == nil, let settings = config.tls {
            do { tls = try TLSMaterial.context(for: settings) } catch { tlsFailure = error }
        }
        let live = LiveConfiguration(
            RunningConfiguration(
                config: config, credentials: credentials, rules: options.rules, signingKeys: options.signingKeys, tlsContext: tls)
        )
        self.live = live
        // In memory, buckets are kept for the longest window that the summary, /metrics or a rule reads.
        let longest = (config.windows + options.rules.flatMap(\.windows) + [.hours(1)]).max()!.milliseconds
        let horizon = min(longest + BucketClock.defaultWidthMs, config.retention.milliseconds)
        let loaded = try store.load(
            bucketWidthMs: BucketClock.defaultWidthMs, forensics: config.forensicsSettings,
            maxClientsPerSeries: config.maxClientsPerSeries, bucketsSinceMs: clock() - horizon, nowMs: clock())
        let state = LiveState(loaded, bucketHorizonMs: horizon)
        state.prune(nowMs: clock(), retentionMs: config.retention.milliseconds)
        self.state = state
        if loaded.unreadableKeyLogRows > 0 {
            state.errors.record(
                .keyLogReplay,
                "key log rows could not be read to their end (written by a newer version, or damaged); the keys of their remaining entries were not restored",
                error: StorageError.unavailable(reason: "\(loaded.unreadableKeyLogRows) unreadable key-log rows"), logger: logger,
                metadata: ["rows": "\(loaded.unreadableKeyLogRows)"])
        }
        if let ruleFailure {
            for problem in ruleFailure.problems {
                state.errors.record(
                    .ruleLoad, "alert rules not loaded: \(problem.description)", error: ruleFailure, logger: logger)
            }
        }
        if let tlsFailure {
            // Only without a ConfigurationSource (serve loads TLS itself and refuses to start without it).
            for problem in tlsFailure.problems {
                state.errors.record(.configLoad, "TLS not loaded: \(problem.description)", error: tlsFailure, logger: logger)
            }
        }
        self.pipeline = IngestPipeline(
            store: store, state: state, maxSeries: config.limits.maxSeries, hasher: hasher, clock: clock)
        self.alertingOptions = options
        self.telemetry = ServiceTelemetry(commits: pipeline.committer.statistics, databasePath: config.database)
        self.pressure = IngestPressure(limits: live)
        let scheme = config.tls == nil ? "http" : "https"
        let alerting = AlertingState(receivers: config.receivers.map(\.name), externalURL: "\(scheme)://\(config.listen)")
        self.alerting = alerting
        self.alertEvaluator = AlertEvaluator(
            live: live, store: store, alerting: alerting, source: options.signalSource ?? LiveSignalSource(state: state),
            logger: logger, errors: state.errors)
        self.webhookDeliverer = WebhookDeliverer(
            store: store, live: live, alerting: alerting, policy: options.deliveryPolicy, clock: clock,
            random: options.random, logger: logger, errors: state.errors)
    }

    /// The router with every route.
    public func makeRouter() -> Router<DedupRequestContext> {
        let router = makeBaseRouter()
        IngestController(
            live: live, pipeline: pipeline, store: store, counters: state.counters, clock: clock, hasher: hasher,
            pressure: pressure
        ).addRoutes(to: router)
        OTLPLogsController(live: live, pipeline: pipeline, counters: state.counters, clock: clock, pressure: pressure)
            .addRoutes(to: router)
        KeyLookupController(hasher: hasher, state: state, config: config, clock: clock).addRoutes(to: router)
        HealthController(store: store).addRoutes(to: router)
        ReadController(live: live, store: store, state: state, clock: clock, alerting: alerting, telemetry: telemetry)
            .addRoutes(to: router)
        AlertsController(alerting: alerting).addRoutes(to: router)
        SeriesController(config: config, state: state, clock: clock).addRoutes(to: router)
        AdminController(reload: { [self] () throws(ConfigError) -> ReloadReport in try reload() }).addRoutes(to: router)
        OpenAPIController().addRoutes(to: router)
        UnmatchedRouteMiddleware.install(on: router, headForGet: true)  // last: sees every route
        return router
    }

    /// The router of `otlp_listen`: `POST /v1/logs` and the health checks, with the same middleware, limits and
    /// ingest bound as the main listener.
    func makeOTLPRouter() -> Router<DedupRequestContext> {
        let router = makeBaseRouter()
        OTLPLogsController(live: live, pipeline: pipeline, counters: state.counters, clock: clock, pressure: pressure)
            .addRoutes(to: router)
        HealthController(store: store).addRoutes(to: router)
        UnmatchedRouteMiddleware.install(on: router, headForGet: true)
        return router
    }

    /// A router with the middleware every listener runs: request metrics, JSON errors, authentication.
    private func makeBaseRouter() -> Router<DedupRequestContext> {
        let router = Router(context: DedupRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: RequestMetricsMiddleware(metrics: telemetry.httpRequests))
        router.add(middleware: APIErrorMiddleware())
        router.add(middleware: AuthMiddleware(live: live, counters: state.counters))
        return router
    }

    /// The Hummingbird application, with storage maintenance and orderly shutdown attached as a service.
    /// `onListening` receives the bound `HOST:PORT` (useful with port 0).
    public func makeApplication(onListening: @escaping @Sendable (String) async -> Void = { _ in }) -> some ApplicationProtocol {
        let storage = StorageService(
            store: store, committer: pipeline.committer, state: state, live: live, clock: clock, logger: logger)
        let config = self.config
        let live = self.live
        let http1 = HTTP1Channel.Configuration(
            // Evaluated per connection: a reloaded body_read_timeout applies to new connections.
            additionalChannelHandlers: [BodyDeadlineHandler(timeout: .milliseconds(live.limits.bodyReadTimeout.milliseconds))],
            idleTimeout: .seconds(75))
        let scheme = config.tls == nil ? "http" : "https"
        if config.tls == nil, !config.tokens.isEmpty, !config.listen.isLoopback {
            logger.warning(
                "bearer tokens and idempotency keys cross the network in clear text: configure tls or put a TLS proxy in front",
                metadata: ["listen": "\(config.listen)"])
        }
        let server: HTTPServerBuilder =
            config.tls == nil
            ? .http1(configuration: http1)
            // The context of the running configuration, per connection: certificates rotate on reload.
            : .https(configuration: http1, tlsContext: { live.tlsContext })
        return Application(
            router: makeRouter(),
            server: server,
            configuration: .init(address: .hostname(config.listen.host, port: config.listen.port), serverName: nil),
            services: [storage] + alertingServices() + reloadServices() + otlpListenerServices(server: server),
            onServerRunning: { [config, alerting] channel in
                let address = channel.localAddress
                let text = "\(address?.ipAddress ?? config.listen.host):\(address?.port ?? config.listen.port)"
                alerting.externalURL = "\(scheme)://\(text)"
                await onListening(text)
            },
            logger: logger
        )
    }

    /// The `otlp_listen` listener, when configured: its own server (the same TLS and body deadline) with
    /// ``makeOTLPRouter()``. Listed last, so graceful shutdown stops it before the services it writes through.
    func otlpListenerServices(server: HTTPServerBuilder) -> [any Service] {
        guard let address = config.otlpListen else { return [] }
        let logger = self.logger
        let listener = Application(
            router: makeOTLPRouter(),
            server: server,
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: nil),
            onServerRunning: { channel in
                let bound = channel.localAddress
                logger.notice(
                    "listening for OTLP/HTTP",
                    metadata: ["otlp_listener": "\(bound?.ipAddress ?? address.host):\(bound?.port ?? address.port)"])
            },
            logger: logger)
        return [listener]
    }

    /// SIGHUP reloads when the service has a configuration source.
    func reloadServices() -> [any Service] {
        guard configurationSource != nil else { return [] }
        return [ReloadSignalService(reload: { [self] in _ = try? reload() })]
    }

    /// The rule evaluator and the webhook delivery worker. Listed after storage, so graceful shutdown stops them
    /// before the database closes.
    func alertingServices() -> [any Service] {
        let poll = alertingOptions.deliveryPollInterval ?? min(.seconds(1), .milliseconds(config.evaluationInterval.milliseconds))
        return [
            AlertEvaluatorService(
                evaluator: alertEvaluator, live: live, clock: clock, metrics: telemetry.ruleEvaluations, logger: logger),
            WebhookDeliveryService(deliverer: webhookDeliverer, pollInterval: poll, logger: logger),
        ]
    }
}
