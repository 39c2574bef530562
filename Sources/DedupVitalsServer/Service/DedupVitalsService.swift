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
    /// The token secrets (digests); empty: no authentication.
    let credentials: Credentials

    /// Milliseconds since the Unix epoch, from the system clock.
    public static let systemClock: @Sendable () -> Int64 = { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    /// Opens the database and rebuilds the in-memory windows from it. `alertingOptions` nil: the rules of
    /// `config` (or the defaults) and no signing keys. `credentials` holds the secrets of `config.tokens` (see
    /// ``Credentials/resolve(_:environment:file:)``); with tokens configured and no credentials given, every `/v1`
    /// request is refused.
    public init(
        config: ServiceConfig, logger: Logger, clock: @escaping @Sendable () -> Int64 = DedupVitalsService.systemClock,
        alertingOptions: AlertingOptions? = nil, credentials: Credentials = Credentials()
    ) throws(StorageError) {
        self.config = config
        self.credentials = credentials
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
        // In memory, buckets are kept for the longest window that the summary, /metrics or a rule reads.
        let longest = (config.windows + options.rules.flatMap(\.windows) + [.hours(1)]).max()!.milliseconds
        let horizon = min(longest + BucketClock.defaultWidthMs, config.retention.milliseconds)
        let loaded = try store.load(
            bucketWidthMs: BucketClock.defaultWidthMs, forensics: config.forensicsSettings,
            maxClientsPerSeries: config.maxClientsPerSeries, bucketsSinceMs: clock() - horizon, nowMs: clock())
        let state = LiveState(loaded, bucketHorizonMs: horizon)
        state.prune(nowMs: clock(), retentionMs: config.retention.milliseconds)
        self.state = state
        if let ruleFailure {
            for problem in ruleFailure.problems {
                state.errors.record(.ruleLoad, "alert rules not loaded: \(problem.description)", error: ruleFailure, logger: logger)
            }
        }
        self.pipeline = IngestPipeline(
            store: store, state: state, maxSeries: config.limits.maxSeries, hasher: hasher, clock: clock)
        self.alertingOptions = options
        let alerting = AlertingState(receivers: config.receivers.map(\.name), externalURL: "http://\(config.listen)")
        self.alerting = alerting
        self.alertEvaluator = AlertEvaluator(
            rules: options.rules, config: config, store: store, alerting: alerting,
            source: options.signalSource ?? LiveSignalSource(state: state), logger: logger, errors: state.errors)
        self.webhookDeliverer = WebhookDeliverer(
            store: store, receivers: Dictionary(config.receivers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first }),
            signingKeys: options.signingKeys, alerting: alerting, policy: options.deliveryPolicy, clock: clock,
            random: options.random, logger: logger, errors: state.errors)
    }

    /// The router with every route.
    public func makeRouter() -> Router<DedupRequestContext> {
        let router = Router(context: DedupRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: APIErrorMiddleware())
        router.add(middleware: AuthMiddleware(credentials: authCredentials, counters: state.counters))
        // One bound on in-flight ingest work, whatever the protocol.
        let pressure = IngestPressure(maxRequests: config.limits.maxInFlightRequests, maxBytes: config.limits.maxInFlightBytes)
        IngestController(
            limits: config.limits, pipeline: pipeline, store: store, counters: state.counters, clock: clock, hasher: hasher,
            pressure: pressure
        ).addRoutes(to: router)
        OTLPLogsController(limits: config.limits, pipeline: pipeline, counters: state.counters, clock: clock, pressure: pressure)
            .addRoutes(to: router)
        KeyLookupController(hasher: hasher, state: state, config: config, clock: clock).addRoutes(to: router)
        ReadController(config: config, store: store, state: state, clock: clock, alerting: alerting).addRoutes(to: router)
        AlertsController(alerting: alerting).addRoutes(to: router)
        SeriesController(config: config, state: state, clock: clock).addRoutes(to: router)
        OpenAPIController().addRoutes(to: router)
        UnmatchedRouteMiddleware.install(on: router, headForGet: true)  // last: sees every route
        return router
    }

    /// The credentials in force: with tokens configured but no secrets resolved, a set that refuses every token.
    private var authCredentials: Credentials {
        credentials.protectsAPI || config.tokens.isEmpty ? credentials : .refusingEveryToken
    }

    /// The Hummingbird application, with storage maintenance and orderly shutdown attached as a service.
    /// `onListening` receives the bound `HOST:PORT` (useful with port 0).
    public func makeApplication(onListening: @escaping @Sendable (String) async -> Void = { _ in }) -> some ApplicationProtocol {
        let storage = StorageService(store: store, committer: pipeline.committer, state: state, config: config, clock: clock, logger: logger)
        let bodyTimeoutMs = config.limits.bodyReadTimeout.milliseconds
        return Application(
            router: makeRouter(),
            server: .http1(configuration: .init(
                additionalChannelHandlers: [BodyDeadlineHandler(timeout: .milliseconds(bodyTimeoutMs))], idleTimeout: .seconds(75))),
            configuration: .init(address: .hostname(config.listen.host, port: config.listen.port), serverName: nil),
            services: [storage] + alertingServices(),
            onServerRunning: { [config, alerting] channel in
                let address = channel.localAddress
                let text = "\(address?.ipAddress ?? config.listen.host):\(address?.port ?? config.listen.port)"
                alerting.externalURL = "http://\(text)"
                await onListening(text)
            },
            logger: logger
        )
    }

    /// The rule evaluator and the webhook delivery worker. Listed after storage, so graceful shutdown stops them
    /// before the database closes.
    func alertingServices() -> [any Service] {
        let evaluationInterval = Duration.milliseconds(config.evaluationInterval.milliseconds)
        let poll = alertingOptions.deliveryPollInterval ?? min(.seconds(1), evaluationInterval)
        return [
            AlertEvaluatorService(evaluator: alertEvaluator, interval: evaluationInterval, clock: clock, logger: logger),
            WebhookDeliveryService(deliverer: webhookDeliverer, pollInterval: poll, logger: logger),
        ]
    }
}
