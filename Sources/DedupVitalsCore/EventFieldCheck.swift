/// A field value that breaks the event rules: what is wrong and which field, as the ingest protocols report it.
public struct EventFieldProblem: Error, Sendable, Equatable {
    public var message: String
    public var field: String

    public init(_ message: String, field: String) {
        self.message = message
        self.field = field
    }
}

/// The checks of docs/reference/events.md#fields on one decoded value. Every ingest protocol (``EventDecoder``
/// for `/v1/events`, ``DecisionConvention`` for OTLP log records) validates through these, so a value means the
/// same thing and fails with the same message whatever the wire format; `field` is the protocol's name for it.
public enum EventFieldCheck {
    /// A `service`, `operation` or `client` name.
    public static func name(_ text: String, field: String) throws(EventFieldProblem) -> String {
        try validateName(text, field: field)
        return text
    }

    /// ``name(_:field:)`` without returning the text: a decoder that owns the text then moves it into its event
    /// instead of copying it (a copy of a string longer than 15 bytes is a retain, and a release of the original).
    static func validateName(_ text: String, field: String) throws(EventFieldProblem) {
        guard EventRules.isValidName(text.utf8) else {
            throw EventFieldProblem("\(field) must match [A-Za-z_][A-Za-z0-9_.-]{0,63}", field: field)
        }
    }

    public static func outcome(_ text: String, field: String) throws(EventFieldProblem) -> Outcome {
        guard let outcome = Outcome(name: text) else {
            throw EventFieldProblem("\(field) must be one of miss, hit, in_flight, completed, mismatch", field: field)
        }
        return outcome
    }

    public static func key(_ text: String, field: String) throws(EventFieldProblem) -> String {
        try validateKey(text, field: field)
        return text
    }

    /// ``key(_:field:)`` without returning the text (see ``validateName(_:field:)``).
    static func validateKey(_ text: String, field: String) throws(EventFieldProblem) {
        try validateKey(byteCount: text.utf8.count, field: field)
    }

    /// ``validateKey(_:field:)`` of a key's UTF-8 length (the decoder's, for a key it hashes in place).
    static func validateKey(byteCount: Int, field: String) throws(EventFieldProblem) {
        try bounded(byteCount, EventRules.keyLengthRange, field: field)
    }

    public static func payload(_ text: String, field: String) throws(EventFieldProblem) -> String {
        try validatePayload(text, field: field)
        return text
    }

    /// ``payload(_:field:)`` without returning the text (see ``validateName(_:field:)``).
    static func validatePayload(_ text: String, field: String) throws(EventFieldProblem) {
        try validatePayload(byteCount: text.utf8.count, field: field)
    }

    /// ``validatePayload(_:field:)`` of a payload's UTF-8 length.
    static func validatePayload(byteCount: Int, field: String) throws(EventFieldProblem) {
        try bounded(byteCount, EventRules.payloadLengthRange, field: field)
    }

    /// An event time in Unix milliseconds, inside the accepted range around `nowMs`.
    public static func time(_ ms: Int64, nowMs: Int64, field: String) throws(EventFieldProblem) -> Int64 {
        guard ms >= nowMs - EventRules.maxPastMs, ms <= nowMs + EventRules.maxFutureMs else {
            throw EventFieldProblem("\(field) must lie between now - 1h and now + 5m", field: field)
        }
        return ms
    }

    /// W3C hex ids: `trace_id` 32 hex digits, `span_id` (optional, only with a trace id) 16, neither all zero.
    public static func trace(
        traceID: String?, spanID: String?, traceField: String, spanField: String
    ) throws(EventFieldProblem) -> TraceContext? {
        guard let traceID else {
            guard spanID == nil else { throw EventFieldProblem("\(spanField) needs a \(traceField)", field: spanField) }
            return nil
        }
        guard TraceContext(traceIDHex: traceID.utf8, spanIDHex: String.UTF8View?.none) != nil else {
            throw EventFieldProblem("\(traceField) must be 32 hex digits, not all zero (W3C trace-id)", field: traceField)
        }
        guard let trace = TraceContext(traceIDHex: traceID.utf8, spanIDHex: spanID?.utf8) else {
            throw EventFieldProblem("\(spanField) must be 16 hex digits, not all zero (W3C parent-id)", field: spanField)
        }
        return trace
    }

    /// A field every event needs.
    public static func required<T>(_ value: T?, field: String) throws(EventFieldProblem) -> T {
        guard let value else { throw EventFieldProblem("\(field) is required", field: field) }
        return value
    }

    private static func bounded(_ byteCount: Int, _ range: ClosedRange<Int>, field: String) throws(EventFieldProblem) {
        guard range.contains(byteCount) else {
            throw EventFieldProblem("\(field) must be \(range.lowerBound) to \(range.upperBound) bytes of UTF-8", field: field)
        }
    }
}
