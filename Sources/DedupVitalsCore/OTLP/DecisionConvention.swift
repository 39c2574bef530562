/// The dedup-vitals decision convention for OTLP log records, version 1 (docs/otlp.md): which records are decisions
/// and how one becomes an ``Event``. Values are checked by ``EventFieldCheck``, the same rules as `/v1/events`.
///
/// Records are fed one at a time, in request order, as a decoder reads them; the result says which records became
/// events, which were ignored (not decisions) and which were rejected, with the first problem for the OTLP
/// `partial_success` answer.
public struct DecisionConvention {
    /// The `event_name` that marks a decision.
    public static let eventName = eventNameBytes.description
    /// The same as static bytes, for decoders that compare it without a string.
    public static let eventNameBytes: StaticString = "dedup_vitals.decision"
    public static let version = 1

    /// What the decisions of one request came to.
    public struct Batch: Sendable {
        public var events: [Event] = []
        /// Log records read, decisions or not.
        public var records = 0
        /// Records that are not decisions.
        public var ignored = 0
        /// Decisions refused (invalid, or outside the caller's scope).
        public var rejected = 0
        /// `log record N: problem` for the first rejected record.
        public var firstProblem: String?
    }

    /// More decisions than the per-request limit.
    public struct TooManyDecisions: Error, Sendable {
        public var limit: Int
    }

    public let nowMs: Int64
    public let maxDecisions: Int
    /// nil when the service may be reported; else why not.
    let scope: (String) -> String?
    public private(set) var batch = Batch()

    /// - Parameter scope: says why a service may not be reported (nil: it may); checked after validation.
    public init(nowMs: Int64, maxDecisions: Int, scope: @escaping (String) -> String? = { _ in nil }) {
        self.nowMs = nowMs
        self.maxDecisions = maxDecisions
        self.scope = scope
    }

    public mutating func add(_ record: some DecisionFields) throws(TooManyDecisions) {
        let index = batch.records
        batch.records += 1
        guard record.isDecision else {
            batch.ignored += 1
            return
        }
        let event: Event
        do throws(EventFieldProblem) {
            event = try Self.event(from: record, nowMs: nowMs)
            if let refusal = scope(event.service) { throw EventFieldProblem(refusal, field: "service.name") }
        } catch {
            batch.rejected += 1
            if batch.firstProblem == nil { batch.firstProblem = "log record \(index): \(error.message)" }
            return
        }
        guard batch.events.count < maxDecisions else { throw TooManyDecisions(limit: maxDecisions) }
        batch.events.append(event)
    }

    /// The event of a decision record, or the first problem with it.
    public static func event(from record: some DecisionFields, nowMs: Int64) throws(EventFieldProblem) -> Event {
        let serviceValue = try record.string(.service) ?? record.resourceService
        let service = try EventFieldCheck.name(
            try EventFieldCheck.required(serviceValue, field: "service.name"),
            field: record.has(.service) ? DecisionAttribute.service.key : "service.name")
        let operation = try EventFieldCheck.name(
            try EventFieldCheck.required(try record.string(.operation), field: DecisionAttribute.operation.key),
            field: DecisionAttribute.operation.key)
        let outcome = try EventFieldCheck.outcome(
            try EventFieldCheck.required(try record.string(.outcome), field: DecisionAttribute.outcome.key),
            field: DecisionAttribute.outcome.key)
        let key = try record.string(.key).map { text throws(EventFieldProblem) in
            try EventFieldCheck.key(text, field: DecisionAttribute.key.key)
        }
        let payload = try record.string(.payload).map { text throws(EventFieldProblem) in
            try EventFieldCheck.payload(text, field: DecisionAttribute.payload.key)
        }
        let client = try record.string(.client).map { text throws(EventFieldProblem) in
            try EventFieldCheck.name(text, field: DecisionAttribute.client.key)
        }
        return Event(
            service: service, operation: operation, outcome: outcome, key: key, payload: payload, client: client,
            timeMs: try time(record, nowMs: nowMs), ageMs: try ageMs(record.ageMs), trace: try trace(record))
    }

    /// The problem of a decision attribute that is not a string.
    static func notAString(_ attribute: DecisionAttribute) -> EventFieldProblem {
        EventFieldProblem("\(attribute.key) must be a string", field: attribute.key)
    }

    private static func ageMs(_ value: OTLPAttributeValue?) throws(EventFieldProblem) -> Int64? {
        let field = DecisionAttribute.ageMs.key
        switch value {
        case nil: return nil
        case .int(let value) where value >= 0: return value
        case .double(let value) where value >= 0 && value < 9e15 && value.rounded() == value: return Int64(value)
        default: throw EventFieldProblem("\(field) must be a non-negative integer", field: field)
        }
    }

    /// `time_unix_nano`, else `observed_time_unix_nano`, else the arrival time; in the accepted range.
    private static func time(_ record: some DecisionFields, nowMs: Int64) throws(EventFieldProblem) -> Int64 {
        let (nanos, field) =
            record.timeUnixNano != 0
            ? (record.timeUnixNano, "time_unix_nano") : (record.observedTimeUnixNano, "observed_time_unix_nano")
        guard nanos != 0 else { return nowMs }
        return try EventFieldCheck.time(Int64(nanos / 1_000_000), nowMs: nowMs, field: field)
    }

    /// The record's trace context; an all-zero (invalid, W3C) or absent trace id is no trace.
    private static func trace(_ record: some DecisionFields) throws(EventFieldProblem) -> TraceContext? {
        let traceID = record.traceID
        guard !traceID.isEmpty else { return nil }
        guard traceID.count == 16 else { throw EventFieldProblem("trace_id must be 16 bytes", field: "trace_id") }
        let spanID = record.spanID
        guard spanID.isEmpty || spanID.count == 8 else {
            throw EventFieldProblem("span_id must be 8 bytes", field: "span_id")
        }
        let span = spanID.contains(where: { $0 != 0 }) ? spanID : nil
        return TraceContext(traceID: traceID, spanID: span)
    }
}
