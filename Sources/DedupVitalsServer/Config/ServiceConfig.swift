import DedupVitalsCore
import DedupVitalsStorage

/// The service configuration (docs/reference/configuration.md). Every field has the documented default.
public struct ServiceConfig: Sendable, Equatable {
    /// A `HOST:PORT` listen address.
    public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
        public var host: String
        public var port: Int
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// Parses `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (all interfaces).
        public init?(_ text: String) {
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
                (0...65_535).contains(port)
            else { return nil }
            var host = String(text[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            self.host = host.isEmpty ? "0.0.0.0" : host
            self.port = port
        }

        /// Whether only this machine can reach the address.
        public var isLoopback: Bool {
            host == "localhost" || host == "::1" || host.hasPrefix("127.")
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    public struct Limits: Sendable, Equatable {
        public var maxBodyBytes = 5 * 1024 * 1024
        public var maxEventsPerRequest = 10_000
        public var maxSeries = 10_000
        /// Longest time a client may take to send a request body (slow clients cannot hold the server).
        public var bodyReadTimeout = PromDuration.seconds(30)
        /// Most request-body bytes all ingest requests together may hold in memory; beyond it, 503 + Retry-After.
        public var maxInFlightBytes = 64 * 1024 * 1024
        /// Most ingest requests processed at once; beyond it, 503 + Retry-After.
        public var maxInFlightRequests = 256
        public init() {}
    }

    /// A bearer token read from the environment variable `tokenEnv` or from the file `tokenFile`, optionally
    /// limited to some services.
    public struct Token: Sendable, Equatable {
        public var name: String
        /// Empty when the secret is in `tokenFile`.
        public var tokenEnv: String
        /// A file holding the secret (read at start and on every reload, so that it can be rotated); nil: `tokenEnv`.
        public var tokenFile: String? = nil
        /// nil: every service.
        public var services: [String]?
        /// nil: no rate limit.
        public var rateLimit: RateLimit?
        /// May use the administrative routes (`POST /-/reload`).
        public var admin: Bool
        public init(name: String, tokenEnv: String, services: [String]?, rateLimit: RateLimit? = nil, admin: Bool = false) {
            self.name = name
            self.tokenEnv = tokenEnv
            self.services = services
            self.rateLimit = rateLimit
            self.admin = admin
        }
    }

    /// A token bucket: `eventsPerSecond` sustained, up to `burst` events at once.
    public struct RateLimit: Sendable, Equatable {
        public var eventsPerSecond: Double
        public var burst: Int
        public init(eventsPerSecond: Double, burst: Int) {
            self.eventsPerSecond = eventsPerSecond
            self.burst = burst
        }
    }

    /// A notification receiver.
    public struct Receiver: Sendable, Equatable {
        /// How notifications are sent.
        public enum Kind: String, Sendable, Equatable, CaseIterable {
            /// Alertmanager webhook v4 bodies with Standard Webhooks headers, POSTed to `url`.
            case webhook
            /// Alerts POSTed to an Alertmanager at `url` + `/api/v2/alerts`, the way Prometheus does.
            case alertmanager
        }

        public var name: String
        public var url: String
        public var secretEnv: String?
        /// A file holding the signing secret (read at start and on every reload); nil: `secretEnv`, if any.
        public var secretFile: String? = nil
        public var sendResolved: Bool
        public var kind: Kind
        public init(name: String, url: String, secretEnv: String? = nil, sendResolved: Bool = true, kind: Kind = .webhook) {
            self.name = name
            self.url = url
            self.secretEnv = secretEnv
            self.sendResolved = sendResolved
            self.kind = kind
        }
    }

    /// HTTPS on the listener: a certificate chain and its key (PEM), and optionally a client CA for mutual TLS.
    public struct TLS: Sendable, Equatable {
        /// The lowest protocol version accepted.
        public enum Version: String, Sendable, Equatable, CaseIterable {
            case tls12 = "TLS12"
            case tls13 = "TLS13"
        }

        public var certFile: String
        public var keyFile: String
        /// When set, clients must present a certificate signed by one of these CAs (mutual TLS).
        public var clientCAFile: String?
        public var minVersion: Version
        public init(certFile: String, keyFile: String, clientCAFile: String? = nil, minVersion: Version = .tls12) {
            self.certFile = certFile
            self.keyFile = keyFile
            self.clientCAFile = clientCAFile
            self.minVersion = minVersion
        }
    }

    /// SQLite durability, as the storage adapter defines it.
    public typealias Synchronous = DedupStore.Synchronous

    public var listen = ListenAddress(host: "127.0.0.1", port: 9470)
    /// A second listener that serves only `POST /v1/logs` (and the health checks), for OpenTelemetry exporters and
    /// Collectors configured with OTLP/HTTP's usual port 4318; nil: `/v1/logs` on `listen` only.
    public var otlpListen: ListenAddress?
    public var database = "./dedup-vitals.sqlite"
    public var windows: [PromDuration] = [.minutes(1), .minutes(5), .minutes(15), .hours(1)]
    public var retention = PromDuration.hours(24)
    public var evaluationInterval = PromDuration.seconds(15)
    public var repeatInterval = PromDuration.hours(4)
    public var dedupWindow = PromDuration.hours(24)
    public var staleInFlightAfter = PromDuration.minutes(5)
    /// How long ingest `Idempotency-Key`s are remembered (at least 24 h).
    public var idempotencyKeyTTL = PromDuration.hours(24)
    /// SQLite durability: `normal` survives process crashes, `full` also power loss.
    public var synchronous = Synchronous.normal
    /// How often the commit groups' aggregate rows are folded into the aggregate tables: at most this much of the log
    /// is replayed at start after a crash.
    public var foldInterval = PromDuration.seconds(1)
    /// Most idempotency keys tracked for forensics; the oldest are evicted first.
    public var maxTrackedKeys = 1_000_000
    /// Most clients ranked per series; later ones are counted as `_other`.
    public var maxClientsPerSeries = 50
    /// A payload fingerprint under this many different keys within `narrowKeySpan` is a suspected narrow key.
    public var narrowKeyThreshold = 3
    public var narrowKeySpan = PromDuration.minutes(10)
    public var limits = Limits()
    public var tokens: [Token] = []
    /// The environment variable holding the bearer token that `/metrics` requires; nil: `/metrics` is open.
    public var metricsTokenEnv: String?
    public var ruleFiles: [String] = []
    public var receivers: [Receiver] = []
    /// nil: plain HTTP.
    public var tls: TLS?
    /// What `/metrics` exports per series (windows, the retry-delay histogram and its protobuf form).
    public var metrics = MetricsExportConfig()

    public init() {}

    /// The key-forensics settings derived from this configuration.
    public var forensicsSettings: KeyForensics.Settings {
        .init(
            dedupWindowMs: dedupWindow.milliseconds, staleAfterMs: staleInFlightAfter.milliseconds, maxKeys: maxTrackedKeys,
            narrowKeySpanMs: narrowKeySpan.milliseconds, narrowKeyThreshold: narrowKeyThreshold)
    }

    /// The label value of a window, e.g. `5m`.
    public static func windowLabel(_ window: PromDuration) -> String { window.description }
}
