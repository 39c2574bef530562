/// What the decision convention reads of one log record, whatever the decoder holds it as: ``OTLPLogRecord`` (the
/// JSON decoder's strings) or the protobuf decoder's byte ranges, which become strings only for the fields an event
/// keeps. Generic rather than one struct, so that each decoder's form is specialised into
/// ``DecisionConvention/event(from:nowMs:)`` and the rules are written once.
public protocol DecisionFields {
    /// Whether the record is a decision (its `event_name`, or the legacy `event.name` attribute).
    var isDecision: Bool { get }
    /// The resource attribute `service.name`.
    var resourceService: String? { get }
    /// Whether the record has the attribute, of any type.
    func has(_ attribute: DecisionAttribute) -> Bool
    /// The attribute's string; nil when absent; ``DecisionConvention/notAString(_:)`` when of another type.
    func string(_ attribute: DecisionAttribute) throws(EventFieldProblem) -> String?
    /// `dedup_vitals.age_ms`, as sent.
    var ageMs: OTLPAttributeValue? { get }
    /// 0: not set.
    var timeUnixNano: UInt64 { get }
    var observedTimeUnixNano: UInt64 { get }
    /// Empty: not set.
    var traceID: [UInt8] { get }
    var spanID: [UInt8] { get }
}

extension OTLPLogRecord: DecisionFields {
    public var isDecision: Bool { eventName == DecisionConvention.eventName }

    public func has(_ attribute: DecisionAttribute) -> Bool { decision[attribute] != nil }

    public func string(_ attribute: DecisionAttribute) throws(EventFieldProblem) -> String? {
        switch decision[attribute] {
        case nil: return nil
        case .string(let text): return text
        default: throw DecisionConvention.notAString(attribute)
        }
    }

    public var ageMs: OTLPAttributeValue? { decision[.ageMs] }
}
