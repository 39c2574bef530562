/// A keyed hash (truncated HMAC-SHA-256) of an idempotency key or payload fingerprint. The raw value is never kept.
public struct KeyHash: Sendable, Hashable {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The first 16 bytes of a digest.
    public init<D: Sequence<UInt8>>(digest: D) {
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, byte) in digest.prefix(16).enumerated() {
            if index < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
        }
        self.init(high: high, low: low)
    }

    public static func == (lhs: KeyHash, rhs: KeyHash) -> Bool { lhs.low == rhs.low && lhs.high == rhs.high }

    public func hash(into hasher: inout Hasher) { hasher.combine(low) }

    /// Dictionaries of keys are on the writer's hot path (several lookups per keyed event). A key hash is already
    /// uniformly distributed and cannot be chosen by a client without the secret, so it needs no SipHash round:
    /// mixing its low word with the seed is enough.
    public func _rawHashValue(seed: Int) -> Int {
        Int(truncatingIfNeeded: (low ^ UInt64(truncatingIfNeeded: seed)) &* 0x9E37_79B9_7F4A_7C15)
    }

    /// The first 16 bytes of a digest in memory (at least 16 bytes).
    public init(digestBytes bytes: UnsafeRawBufferPointer) {
        self.init(
            high: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
            low: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
    }

    /// The 16 bytes, big-endian (the storage form).
    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
    }
}
