/// One validated event (docs/reference/events.md#fields). Produced by ``EventDecoder``; every field already checked.
public struct Event: Sendable, Equatable {
    public var service: String
    public var operation: String
    public var outcome: Outcome
    /// The raw idempotency key. Kept in memory only until it is hashed; never stored or printed. Nil when the decoder
    /// hashed it (``hashedKey``).
    public var key: String?
    /// Nil when the decoder hashed it with the key (``hashedKey``).
    public var payload: String?
    /// The hashes of the key and payload, when the decoder computed them (``EventDecoder``): then ``key`` and
    /// ``payload`` are nil.
    public var hashedKey: HashedKey?
    public var client: String?
    /// When the decision happened, in milliseconds since the Unix epoch.
    public var timeMs: Int64
    /// Milliseconds since the key's first attempt, when the reporter knows it.
    public var ageMs: Int64?
    /// The trace that made the decision, when the reporter sent one.
    public var trace: TraceContext?

    public init(
        service: String, operation: String, outcome: Outcome, key: String? = nil, payload: String? = nil,
        client: String? = nil, timeMs: Int64, ageMs: Int64? = nil, trace: TraceContext? = nil, hashedKey: HashedKey? = nil
    ) {
        self.service = service
        self.operation = operation
        self.outcome = outcome
        self.key = key
        self.payload = payload
        self.client = client
        self.timeMs = timeMs
        self.ageMs = ageMs
        self.trace = trace
        self.hashedKey = hashedKey
    }

    /// Whether the event has a key, as text or hashed.
    public var isKeyed: Bool { key != nil || hashedKey != nil }

    public var series: SeriesKey { SeriesKey(service: service, operation: operation) }
}
