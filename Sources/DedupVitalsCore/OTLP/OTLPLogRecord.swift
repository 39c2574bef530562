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

    /// The attribute key (from a table: field names are passed for every record, and a 20-odd-byte string built
    /// each time would be an allocation).
    public var key: String { Self.keys[rawValue] }

    private static let keys = allCases.map { prefix + $0.staticSuffix.description }

    /// The part after the prefix, as static bytes: keys are compared with it without a string.
    var staticSuffix: StaticString {
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
        let match: DecisionAttribute?? = key.withContiguousStorageIfAvailable { Self(key: $0) }
        guard let found = match ?? Array(key).withUnsafeBufferPointer({ Self(key: $0) }) else { return nil }
        self = found
    }

    /// The attribute named by a UTF-8 key. Runs for every attribute of every OTLP record: the prefix is compared as
    /// two words and the suffix chosen by its length, without a string or a loop over the cases.
    public init?(key: UnsafeBufferPointer<UInt8>) {
        // "dedup_vitals." is 13 bytes: the first 8 as one word, then the 8 that end at byte 13.
        guard key.count > 13, key.count <= 22, let base = UnsafeRawPointer(key.baseAddress),
            base.loadUnaligned(as: UInt64.self) == Self.prefixHead,
            base.loadUnaligned(fromByteOffset: 5, as: UInt64.self) == Self.prefixTail
        else { return nil }
        let suffix = UnsafeBufferPointer(rebasing: key[13...])
        func matches(_ attribute: DecisionAttribute) -> Bool {
            let expected = attribute.staticSuffix
            return suffix.elementsEqual(UnsafeBufferPointer(start: expected.utf8Start, count: expected.utf8CodeUnitCount))
        }
        switch suffix.count {
        case 3 where matches(.key): self = .key
        case 6 where matches(.client): self = .client
        case 6 where matches(.ageMs): self = .ageMs
        case 7 where matches(.service): self = .service
        case 7 where matches(.outcome): self = .outcome
        case 7 where matches(.payload): self = .payload
        case 9 where matches(.operation): self = .operation
        default: return nil
        }
    }

    private static let prefixHead = Self.word(prefix.utf8.prefix(8))
    private static let prefixTail = Self.word(prefix.utf8.dropFirst(5).prefix(8))

    private static func word(_ bytes: some Collection<UInt8>) -> UInt64 {
        var value: UInt64 = 0
        for (index, byte) in bytes.enumerated() { value |= UInt64(byte) << (8 * UInt64(index)) }
        return UInt64(littleEndian: value)
    }
}

/// The values of the ``DecisionAttribute``s of one record (nil: absent), in the JSON decoder's form.
public typealias DecisionAttributes = DecisionAttributeValues<OTLPAttributeValue>

/// One value per ``DecisionAttribute`` (nil: absent), inline: no dictionary, no allocation per record.
public struct DecisionAttributeValues<Value: Sendable>: Sendable {
    private var values: (Value?, Value?, Value?, Value?, Value?, Value?, Value?) = (nil, nil, nil, nil, nil, nil, nil)

    public init() {}

    public subscript(_ attribute: DecisionAttribute) -> Value? {
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
