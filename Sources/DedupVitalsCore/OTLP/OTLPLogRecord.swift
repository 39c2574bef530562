/// The parts of one OTLP `LogRecord` (and of its resource) that the decision convention reads (docs/otlp.md);
/// the protobuf and JSON decoders both produce it, so the convention is applied once, whatever the encoding.
public struct OTLPLogRecord: Sendable {
    /// `event_name`, or else the legacy `event.name` attribute.
    public var eventName: String?
    /// The resource attribute `service.name`.
    public var resourceService: String?
    /// The `dedup_vitals.*` attributes of the record.
    public var decision = DecisionAttributes()
    /// 0: not set.
    public var timeUnixNano: UInt64 = 0
    public var observedTimeUnixNano: UInt64 = 0
    /// Empty: not set. Any other length than 16 (8 for the span) is invalid.
    public var traceID: [UInt8] = []
    public var spanID: [UInt8] = []

    public init() {}
}

/// An attribute value (OTLP `AnyValue`), reduced to what a decision field can be; arrays, maps and bytes are
/// `.other` (never valid for a decision field).
public enum OTLPAttributeValue: Sendable, Equatable {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case other
}

/// The record attributes of the convention, `dedup_vitals.<name>`.
public enum DecisionAttribute: Int, CaseIterable, Sendable {
    case service, operation, outcome, key, payload, client, ageMs

    public static let prefix = "dedup_vitals."

    /// The attribute key.
    public var key: String { Self.prefix + suffix }

    var suffix: String {
        switch self {
        case .service: "service"
        case .operation: "operation"
        case .outcome: "outcome"
        case .key: "key"
        case .payload: "payload"
        case .client: "client"
        case .ageMs: "age_ms"
        }
    }

    /// The attribute named by a UTF-8 key, or nil for any other key (without building a string).
    public init?(key: some Collection<UInt8>) {
        let prefix = Self.prefix.utf8
        guard key.count > prefix.count, key.starts(with: prefix) else { return nil }
        let suffix = key.dropFirst(prefix.count)
        guard let match = Self.allCases.first(where: { suffix.elementsEqual($0.suffix.utf8) }) else { return nil }
        self = match
    }
}

/// The values of the ``DecisionAttribute``s of one record (nil: absent).
public struct DecisionAttributes: Sendable {
    private var values:
        (
            OTLPAttributeValue?, OTLPAttributeValue?, OTLPAttributeValue?, OTLPAttributeValue?,
            OTLPAttributeValue?, OTLPAttributeValue?, OTLPAttributeValue?
        ) = (nil, nil, nil, nil, nil, nil, nil)

    public init() {}

    public subscript(_ attribute: DecisionAttribute) -> OTLPAttributeValue? {
        get {
            switch attribute {
            case .service: values.0
            case .operation: values.1
            case .outcome: values.2
            case .key: values.3
            case .payload: values.4
            case .client: values.5
            case .ageMs: values.6
            }
        }
        set {
            switch attribute {
            case .service: values.0 = newValue
            case .operation: values.1 = newValue
            case .outcome: values.2 = newValue
            case .key: values.3 = newValue
            case .payload: values.4 = newValue
            case .client: values.5 = newValue
            case .ageMs: values.6 = newValue
            }
        }
    }
}
