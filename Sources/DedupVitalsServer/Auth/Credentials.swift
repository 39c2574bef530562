import Crypto
import DedupVitalsCore

/// The bearer-token secrets of the configuration (`auth.tokens`, `metrics_token_env`), read from the environment or
/// from `token_file`s at start and on every reload. Only SHA-256 digests of the secrets are kept; a presented token is hashed and compared with every digest in
/// constant time, so neither timing nor logs reveal a secret.
public struct Credentials: Sendable {
    /// An API token: who presented it and what it may do.
    public struct Caller: Sendable, Equatable {
        public var name: String
        /// nil: every service.
        public var services: Set<String>?
        public var rateLimit: ServiceConfig.RateLimit?
        /// May use the administrative routes (`POST /-/reload`).
        public var admin: Bool = false

        /// Whether this caller may report events of `service`.
        public func mayReport(_ service: String) -> Bool { services?.contains(service) ?? true }
    }

    private struct Entry: Sendable {
        var caller: Caller
        var digest: [UInt8]
    }

    private let entries: [Entry]
    private let metricsDigest: [UInt8]?

    /// Whether `/v1/*` requires a token.
    public var protectsAPI: Bool { !entries.isEmpty }
    /// Whether `/metrics` requires its own token.
    public var protectsMetrics: Bool { metricsDigest != nil }

    /// No tokens: every route is open.
    public init() {
        entries = []
        metricsDigest = nil
    }

    /// Reads every secret named by `config` from `environment`. A variable that is missing or empty, or two tokens
    /// sharing one secret, is a configuration error (the message names the variable, never its value).
    public static func resolve(
        _ config: ServiceConfig, environment: [String: String], file: String
    ) throws(ConfigError) -> Credentials {
        var problems: [ConfigProblem] = []
        func secret(_ variable: String, _ owner: String) -> [UInt8]? {
            guard let value = environment[variable], !value.isEmpty else {
                problems.append(
                    ConfigProblem(file: file, line: 0, message: "\(owner): environment variable \(variable) is not set or empty"))
                return nil
            }
            return digest(value)
        }
        var entries: [Entry] = []
        for token in config.tokens {
            let found: [UInt8]?
            if let file = token.tokenFile {
                switch SecretFile.read(file) {
                case .success(let value): found = digest(value)
                case .failure(let problem):
                    problems.append(
                        ConfigProblem(file: file, line: 0, message: "auth.tokens[] \(token.name): \(problem.message)"))
                    found = nil
                }
            } else {
                found = secret(token.tokenEnv, "auth.tokens[] \(token.name)")
            }
            guard let digest = found else { continue }
            if let other = entries.first(where: { $0.digest == digest }) {
                problems.append(
                    ConfigProblem(
                        file: file, line: 0, message: "auth.tokens[] \(token.name): same secret as token \(other.caller.name)"))
            }
            let caller = Caller(
                name: token.name, services: token.services.map { Set($0) }, rateLimit: token.rateLimit, admin: token.admin)
            entries.append(Entry(caller: caller, digest: digest))
        }
        let metricsDigest = config.metricsTokenEnv.flatMap { secret($0, "metrics_token_env") }
        guard problems.isEmpty else { throw ConfigError(problems) }
        return Credentials(entries: entries, metricsDigest: metricsDigest)
    }

    /// Protects `/v1` but accepts no token (tokens configured, secrets not resolved: fail closed).
    static let refusingEveryToken = Credentials(
        entries: [Entry(caller: Caller(name: "", services: [], rateLimit: nil), digest: [])], metricsDigest: nil)

    private init(entries: [Entry], metricsDigest: [UInt8]?) {
        self.entries = entries
        self.metricsDigest = metricsDigest
    }

    /// The caller whose token is `presented`, or nil. Every configured digest is compared, whatever matches.
    public func caller(presenting presented: Substring) -> Caller? {
        let digest = Self.digest(presented)
        var found: Caller?
        for entry in entries where Self.constantTimeEqual(entry.digest, digest) {
            found = entry.caller
        }
        return found
    }

    /// Whether `presented` is the metrics token.
    public func isMetricsToken(_ presented: Substring) -> Bool {
        guard let metricsDigest else { return false }
        return Self.constantTimeEqual(metricsDigest, Self.digest(presented))
    }

    private static func digest<S: StringProtocol>(_ text: S) -> [UInt8] {
        Array(SHA256.hash(data: Array(text.utf8)))
    }

    /// Compares two equal-length digests without an early exit.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}
