/// The W3C trace context of a decision: which trace (and span) made it. Kept so that a double execution can be
/// followed to the trace of the request that ran twice.
///
/// Held as three integers (24 bytes, no allocation): key forensics keeps up to two per tracked key.
public struct TraceContext: Sendable, Hashable {
    /// The 16-byte trace id as two big-endian halves; not both zero.
    public var traceHigh: UInt64
    public var traceLow: UInt64
    /// The 8-byte span id, big-endian; 0 when unknown (W3C: an all-zero span id is invalid).
    public var span: UInt64

    /// nil unless the trace id is not all zero (W3C: an all-zero trace id is invalid).
    public init?(traceHigh: UInt64, traceLow: UInt64, span: UInt64 = 0) {
        guard traceHigh != 0 || traceLow != 0 else { return nil }
        self.traceHigh = traceHigh
        self.traceLow = traceLow
        self.span = span
    }

    /// nil unless `traceID` is 16 bytes and not all zero, and `spanID` (when given) 8 bytes and not all zero.
    public init?(traceID: [UInt8], spanID: [UInt8]?) {
        guard traceID.count == 16 else { return nil }
        var span: UInt64 = 0
        if let spanID {
            guard spanID.count == 8 else { return nil }
            span = Self.integer(spanID[...])
            guard span != 0 else { return nil }
        }
        self.init(traceHigh: Self.integer(traceID[0..<8]), traceLow: Self.integer(traceID[8..<16]), span: span)
    }

    /// From W3C hex (32 and 16 digits, either case); nil unless both are well-formed and not all zero.
    public init?(traceIDHex: some Collection<UInt8>, spanIDHex: (some Collection<UInt8>)?) {
        guard let trace = Self.bytes(hex: traceIDHex, count: 16) else { return nil }
        var span: [UInt8]?
        if let spanIDHex {
            guard let bytes = Self.bytes(hex: spanIDHex, count: 8) else { return nil }
            span = bytes
        }
        self.init(traceID: trace, spanID: span)
    }

    public var traceID: [UInt8] { Self.bytes(traceHigh) + Self.bytes(traceLow) }
    public var spanID: [UInt8]? { span == 0 ? nil : Self.bytes(span) }

    /// Lowercase hex, as W3C `traceparent` and trace UIs write it.
    public var traceIDHex: String { Self.hex(traceHigh) + Self.hex(traceLow) }
    public var spanIDHex: String? { span == 0 ? nil : Self.hex(span) }

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

    private static func integer(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    private static func bytes(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) }
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = Array("0123456789abcdef".utf8)
        let out = (0..<16).map { digits[Int(value >> (60 - 4 * $0) & 0xF)] }
        return String(decoding: out, as: UTF8.self)
    }
}
