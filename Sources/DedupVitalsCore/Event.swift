/// One validated event (docs/reference/events.md#fields). Produced by ``EventDecoder``; every field already checked.
public struct Event: Sendable, Equatable {
    public var service: String
    public var operation: String
    public var outcome: Outcome
    /// The raw idempotency key. Kept in memory only until it is hashed; never stored or printed.
    public var key: String?
    public var payload: String?
    public var client: String?
    /// When the decision happened, in milliseconds since the Unix epoch.
    public var timeMs: Int64
    /// Milliseconds since the key's first attempt, when the reporter knows it.
    public var ageMs: Int64?
    /// The trace that made the decision, when the reporter sent one.
    public var trace: TraceContext?

    public init(
        service: String, operation: String, outcome: Outcome, key: String? = nil, payload: String? = nil,
        client: String? = nil, timeMs: Int64, ageMs: Int64? = nil, trace: TraceContext? = nil
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
    }

    public var series: SeriesKey { SeriesKey(service: service, operation: operation) }
}
