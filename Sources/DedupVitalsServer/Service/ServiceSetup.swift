import DedupVitalsStorage
import Logging

/// Everything a service needs before it opens its database, read and checked in one place, so that `serve` and the
/// tests build a service the same way: the configuration file with the command line's overrides, the token secrets,
/// the alert rules and the receivers' signing keys.
///
/// Loading is all-or-nothing: every problem found is reported (as `file:line: message`), and nothing is used
/// unless everything is valid.
public struct ServiceSetup: Sendable {
    public var config: ServiceConfig
    public var credentials: Credentials
    public var alerting: AlertingOptions

    /// What the command line sets over the configuration file.
    public struct Overrides: Sendable {
        public var listen: ServiceConfig.ListenAddress?
        public var database: String?
        /// Whether a non-loopback listener may run without any token.
        public var allowUnauthenticated: Bool

        public init(listen: ServiceConfig.ListenAddress? = nil, database: String? = nil, allowUnauthenticated: Bool = false) {
            self.listen = listen
            self.database = database
            self.allowUnauthenticated = allowUnauthenticated
        }
    }

    /// Reads `configFile` (the defaults when nil), applies `overrides`, then resolves the token secrets and the
    /// receivers' signing keys from `environment` and loads the rule files.
    public static func load(
        configFile: String?, overrides: Overrides = Overrides(), environment: [String: String]
    ) throws(ConfigError) -> ServiceSetup {
        var config = ServiceConfig()
        if let configFile { config = try ConfigLoader.load(path: configFile) }
        if let listen = overrides.listen { config.listen = listen }
        if let database = overrides.database { config.database = database }
        let source = configFile ?? "configuration"
        if config.tokens.isEmpty, !config.listen.isLoopback, !overrides.allowUnauthenticated {
            throw ConfigError([ConfigProblem(
                file: source, line: 0,
                message: "refusing to listen on \(config.listen) without auth tokens; configure auth.tokens or pass --allow-unauthenticated")])
        }
        return try resolve(config, environment: environment, source: source)
    }

    /// The setup of a configuration already read (or built in code): resolves the token secrets and the receivers'
    /// signing keys from `environment` and loads the rule files. `source` names the configuration in problems.
    public static func resolve(
        _ config: ServiceConfig, environment: [String: String], source: String = "configuration"
    ) throws(ConfigError) -> ServiceSetup {
        let credentials = try Credentials.resolve(config, environment: environment, file: source)
        let rules = try AlertRuleLoader.load(for: config)
        let signingKeys = try ReceiverSecrets.resolve(config.receivers, environment: environment, configFile: source)
        return ServiceSetup(config: config, credentials: credentials, alerting: AlertingOptions(rules: rules, signingKeys: signingKeys))
    }
}

extension DedupVitalsService {
    /// The service of a loaded setup.
    public convenience init(
        _ setup: ServiceSetup, logger: Logger, clock: @escaping @Sendable () -> Int64 = DedupVitalsService.systemClock
    ) throws(StorageError) {
        try self.init(
            config: setup.config, logger: logger, clock: clock, alertingOptions: setup.alerting, credentials: setup.credentials)
    }
}
