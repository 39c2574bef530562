/// One log record as the protobuf decoder reads it: the convention's attributes as byte ranges of the request body
/// and scalars, without a string or a reference count until ``DecisionConvention/event(from:nowMs:)`` builds the
/// event from them. The decoder's hot path (docs/performance.md#otlp-logs): strings for the values an event keeps
/// are made once, at the end; everything else stays offsets into the body.
struct ProtobufDecisionRecord: DecisionFields {
    /// An attribute's AnyValue, its string as a range of the (UTF-8 validated) body.
    enum Value: Sendable {
        case string(Range<Int>)
        case int(Int64)
        case double(Double)
        case bool(Bool)
        case other
    }

    let body: UnsafeBufferPointer<UInt8>
    var isDecision = false
    var resourceService: String?
    var timeUnixNano: UInt64 = 0
    var observedTimeUnixNano: UInt64 = 0
    var traceRange: Range<Int>?
    var spanRange: Range<Int>?
    private var values = DecisionAttributeValues<Value>()

    init(body: UnsafeBufferPointer<UInt8>) {
        self.body = body
    }

    subscript(_ attribute: DecisionAttribute) -> Value? {
        get { values[attribute] }
        set { values[attribute] = newValue }
    }

    func has(_ attribute: DecisionAttribute) -> Bool { self[attribute] != nil }

    func string(_ attribute: DecisionAttribute) throws(EventFieldProblem) -> String? {
        switch self[attribute] {
        case nil: return nil
        case .string(let range): return text(range)
        default: throw DecisionConvention.notAString(attribute)
        }
    }

    var ageMs: OTLPAttributeValue? {
        switch self[.ageMs] {
        case nil: nil
        case .string(let range): .string(text(range))
        case .int(let value): .int(value)
        case .double(let value): .double(value)
        case .bool(let value): .bool(value)
        case .other: .other
        }
    }

    var traceID: [UInt8] { traceRange.map { Array(body[$0]) } ?? [] }
    var spanID: [UInt8] { spanRange.map { Array(body[$0]) } ?? [] }

    /// The string at `range`, validated as UTF-8 when it was read.
    private func text(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: body[range]), as: UTF8.self)
    }
}
