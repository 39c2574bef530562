/// The W3C trace context of a decision (`trace_id`, `span_id` as lowercase hex), so that dedup-vitals can link a
/// double execution to the trace of the request that ran twice.
public struct TraceContext: Sendable, Equatable {
    /// 32 lowercase hex digits, not all zero.
    public let traceID: String
    /// 16 lowercase hex digits, not all zero.
    public let spanID: String

    /// Nil unless both ids are valid W3C ids.
    public init?(traceID: String, spanID: String) {
        guard Self.isValidID(traceID, length: 32), Self.isValidID(spanID, length: 16) else { return nil }
        self.traceID = traceID
        self.spanID = spanID
    }

    /// Parses a `traceparent` header (`00-<trace-id>-<parent-id>-<flags>`); nil when it is malformed.
    public init?(traceparent: some StringProtocol) {
        let parts = traceparent.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].utf8.count == 2, parts[0] != "ff" else { return nil }
        self.init(traceID: String(parts[1]), spanID: String(parts[2]))
    }

    private static func isValidID(_ id: String, length: Int) -> Bool {
        guard id.utf8.count == length else { return false }
        var nonZero = false
        for byte in id.utf8 {
            switch byte {
            case UInt8(ascii: "0"): continue
            case UInt8(ascii: "1")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"): nonZero = true
            default: return false
            }
        }
        return nonZero
    }
}
