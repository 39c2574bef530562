import DedupVitalsCore

/// What `dedup-vitals mcp-guard --config FILE` reads (docs/mcp-guard.md#configuration). Every field has a default, so
/// the guard runs without a file.
public struct GuardConfig: Sendable, Equatable {
    /// The `service` of every reported event: the name of the guarded server in dedup-vitals.
    public var service = "mcp-guard"
    /// The SQLite file of stored outcomes; nil: `$HOME/.dedup-vitals/mcp-guard.sqlite`.
    public var database: String?
    /// How long a completed outcome is replayed to a repeat of its intent key.
    public var dedupWindow = PromDuration.hours(24)
    /// How long a repeat waits for the result of the first call, still running, before it is answered with an error.
    public var inFlightWait = PromDuration.seconds(30)
    /// Where decisions are reported; nil: not reported.
    public var report: Report?
    /// Rules per tool name.
    public var tools: [String: ToolRule] = [:]

    public init() {}

    /// The dedup-vitals service the decisions go to.
    public struct Report: Sendable, Equatable {
        /// Base URL, e.g. `http://127.0.0.1:9470`.
        public var url: String
        /// The environment variable holding the bearer token, if the service wants one.
        public var tokenEnv: String?
        /// Events held while the service is slow or down; more are dropped (and counted).
        public var buffer = 10_000
        /// Events per `POST /v1/events`.
        public var batchSize = 500
        /// How often buffered events are sent.
        public var flushInterval = PromDuration(milliseconds: 1000)

        public init(url: String) { self.url = url }
    }

    /// What the configuration says about one tool.
    public struct ToolRule: Sendable, Equatable {
        /// true: guarded whatever its annotations say; false: never guarded; nil: by its annotations.
        public var guarded: Bool?
        /// The argument fields that make up the intent; nil: all arguments but ``ignoreFields``.
        public var keyFields: [String]?
        /// Arguments that are not part of the call's meaning (timestamps, request ids): left out of the key and of the
        /// payload fingerprint.
        public var ignoreFields: [String] = []

        public init(guarded: Bool? = nil, keyFields: [String]? = nil, ignoreFields: [String] = []) {
            self.guarded = guarded
            self.keyFields = keyFields
            self.ignoreFields = ignoreFields
        }
    }

    /// The rule of `tool`; the empty rule when the configuration does not name it.
    public func rule(for tool: String) -> ToolRule { tools[tool] ?? ToolRule() }
}
