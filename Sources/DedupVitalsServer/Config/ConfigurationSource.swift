import DedupVitalsCore
import Foundation
import NIOSSL

/// Where `serve` reads its configuration from, at start and on every reload: the configuration file (or the
/// defaults), the command-line overrides, the rule files it names, the secrets in the environment or in files, and the
/// TLS certificates. The one place that wires a configuration together, so that `serve`, a reload and the tests load
/// it the same way; the command line only parses arguments and maps errors to exit codes.
public struct ConfigurationSource: Sendable {
    /// nil: the built-in defaults.
    public var path: String?
    /// `--listen` and `--db`, which win over the file.
    public var listen: ServiceConfig.ListenAddress?
    public var database: String?
    /// Whether a non-loopback listener may run without any token (`--allow-unauthenticated`).
    public var allowUnauthenticated: Bool
    public var environment: [String: String]

    public init(
        path: String?, listen: ServiceConfig.ListenAddress? = nil, database: String? = nil, allowUnauthenticated: Bool = false,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.path = path
        self.listen = listen
        self.database = database
        self.allowUnauthenticated = allowUnauthenticated
        self.environment = environment
    }

    /// Reads everything; throws every problem found (configuration, rule files and secrets), each as
    /// `file:line: message`.
    public func load() throws(ConfigError) -> RunningConfiguration {
        var config = ServiceConfig()
        var rules: [AlertRule] = []
        var problems: [ConfigProblem] = []
        if let path {
            (config, rules, problems) = AlertRuleLoader.checkConfigFile(path)
        } else {
            (rules, problems) = AlertRuleLoader.check(config)
        }
        if let listen { config.listen = listen }
        if let database { config.database = database }
        let file = path ?? "configuration"
        for address in [config.listen] + (config.otlpListen.map { [$0] } ?? [])
        where config.tokens.isEmpty && !address.isLoopback && !allowUnauthenticated {
            problems.append(
                ConfigProblem(
                    file: file, line: 0,
                    message:
                        "refusing to listen on \(address) without auth tokens; configure auth.tokens or pass --allow-unauthenticated"
                ))
        }
        var credentials = Credentials()
        var signingKeys: [String: [UInt8]] = [:]
        do { credentials = try Credentials.resolve(config, environment: environment, file: file) } catch {
            problems += error.problems
        }
        do { signingKeys = try ReceiverSecrets.resolve(config.receivers, environment: environment, configFile: file) } catch {
            problems += error.problems
        }
        var tlsContext: NIOSSLContext?
        if let tls = config.tls {
            do { tlsContext = try TLSMaterial.context(for: tls) } catch { problems += error.problems }
        }
        guard problems.isEmpty else { throw ConfigError(problems) }
        return RunningConfiguration(
            config: config, credentials: credentials, rules: rules, signingKeys: signingKeys, tlsContext: tlsContext)
    }
}
