import DedupVitalsCore
import NIOSSL

/// Everything one load of the configuration produces: the configuration, the rules of its rule files and the
/// secrets it names, resolved from the environment. A reload replaces all of it at once, or none of it.
public struct RunningConfiguration: Sendable {
    public var config: ServiceConfig
    /// The token secrets (digests) of `config.tokens` and `metrics_token_env`.
    public var credentials: Credentials
    public var rules: [AlertRule]
    /// Signing keys by receiver name.
    public var signingKeys: [String: [UInt8]]
    /// The server TLS context built from `config.tls` (its files read); nil without TLS.
    public var tlsContext: NIOSSLContext?

    public init(
        config: ServiceConfig, credentials: Credentials = Credentials(), rules: [AlertRule], signingKeys: [String: [UInt8]] = [:],
        tlsContext: NIOSSLContext? = nil
    ) {
        self.config = config
        self.credentials = credentials
        self.rules = rules
        self.signingKeys = signingKeys
        self.tlsContext = tlsContext
    }

    /// The credentials in force: with tokens configured but no secrets resolved, a set that refuses every token.
    var effectiveCredentials: Credentials {
        credentials.protectsAPI || config.tokens.isEmpty ? credentials : .refusingEveryToken
    }
}
