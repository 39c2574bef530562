/// The W3C trace context of a decision: which trace (and span) made it. Kept so that a double execution can be
/// followed to the trace of the request that ran twice.
public struct TraceContext: Sendable, Hashable {
    /// 16 bytes, not all zero.
    public var traceID: [UInt8]
    /// 8 bytes, not all zero; nil when unknown.
    public var spanID: [UInt8]?

    /// nil unless `traceID` is 16 bytes and not all zero, and `spanID` (when given) 8 bytes and not all zero.
    public init?(traceID: [UInt8], spanID: [UInt8]?) {
        guard traceID.count == 16, traceID.contains(where: { $0 != 0 }) else { return nil }
        if let spanID {
            guard spanID.count == 8, spanID.contains(where: { $0 != 0 }) else { return nil }
        }
        self.traceID = traceID
        self.spanID = spanID
    }

    /// Lowercase hex, as W3C `traceparent` and trace UIs write it.
    public var traceIDHex: String { Self.hex(traceID) }
    public var spanIDHex: String? { spanID.map(Self.hex) }

    /// Decodes `count` bytes of lowercase or uppercase hex; nil if `text` is anything else.
    public static func bytes(hex text: some Collection<UInt8>, count: Int) -> [UInt8]? {
        guard text.count == count * 2 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(count)
        var high: UInt8?
        for c in text {
            let nibble: UInt8
            switch c {
            case 0x30...0x39: nibble = c - 0x30
            case 0x41...0x46: nibble = c - 0x41 + 10
            case 0x61...0x66: nibble = c - 0x61 + 10
            default: return nil
            }
            if let h = high {
                out.append(h << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return out
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
