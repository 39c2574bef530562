/// What an idempotency layer decided about one request: the vocabulary of dedup-vitals' `POST /v1/events`.
public enum DecisionOutcome: String, Sendable, CaseIterable {
    /// A new key: the operation executes.
    case miss
    /// A completed key: the stored result is replayed.
    case hit
    /// The first attempt for the key still runs: the retry is refused (409) or waits.
    case inFlight = "in_flight"
    /// The result of a `miss` is stored.
    case completed
    /// The key came back with another request fingerprint (422).
    case mismatch
}

/// One decision, as recorded by ``DecisionReporter/record(_:)``. Field rules are those of `POST /v1/events`
/// (README, "Events"); an event that breaks them is dropped at `record` time rather than sent, because the service
/// rejects a batch as a whole when one of its events is invalid.
public struct DecisionEvent: Sendable, Equatable {
    public var service: String
    public var operation: String
    public var outcome: DecisionOutcome
    /// The idempotency key (1...255 bytes); dedup-vitals keeps only a keyed hash of it.
    public var key: String?
    /// A fingerprint of the request's intent (1...128 bytes); hashed by the service too.
    public var payload: String?
    /// The upstream caller, for caller attribution (service-name charset).
    public var client: String?
    /// Milliseconds since the key's first attempt, on `hit` and `in_flight`.
    public var ageMs: Int64?
    /// W3C trace context of the request, when there is one.
    public var trace: TraceContext?
    /// Unix seconds at which the decision was made; set by `record` when nil.
    public var timestamp: Double?

    public init(
        service: String, operation: String, outcome: DecisionOutcome, key: String? = nil, payload: String? = nil,
        client: String? = nil, ageMs: Int64? = nil, trace: TraceContext? = nil, timestamp: Double? = nil
    ) {
        self.service = service
        self.operation = operation
        self.outcome = outcome
        self.key = key
        self.payload = payload
        self.client = client
        self.ageMs = ageMs
        self.trace = trace
        self.timestamp = timestamp
    }
}
