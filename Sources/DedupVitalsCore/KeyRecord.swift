/// What is known of one idempotency key (by keyed hash only): its first and last attempts, whether it holds a lock
/// without an outcome, and how often each outcome was seen.
public struct KeyRecord: Sendable, Equatable {
    // Declared widest first: 84 bytes. The tracked keys keep it packed into 48 (``PackedKeyRecord``).

    /// When the record was created (drives oldest-first eviction).
    public var createdMs: Int64
    /// The first `miss` of the key's current life; 0 when no miss was seen.
    public var firstMissMs: Int64 = 0
    /// The latest `miss`.
    public var lastMissMs: Int64 = 0
    /// The latest `completed`; 0 when none.
    public var completedMs: Int64 = 0
    public var lastSeenMs: Int64
    /// The first payload fingerprint seen: the high 64 bits of its keyed hash; 0 when none was seen.
    public var payloadFingerprint: UInt64 = 0
    /// Traces of the first miss and of the latest detected repeat; nil when the key's misses carried none.
    public var traces: KeyTraces?
    /// A `miss` without a `completed` after it: the lock is held.
    public var open = false
    /// How many times a payload other than the first was seen (saturating).
    public var payloadVariants: UInt8 = 0
    /// Interned series (see ``KeyForensics/index(of:)``).
    public var seriesIndex: UInt32
    public var miss: UInt32 = 0
    public var hit: UInt32 = 0
    public var inFlight: UInt32 = 0
    public var completed: UInt32 = 0
    public var mismatch: UInt32 = 0

    public init(seriesIndex: UInt32, createdMs: Int64) {
        self.seriesIndex = seriesIndex
        self.createdMs = createdMs
        self.lastSeenMs = createdMs
    }

    mutating func count(_ outcome: Outcome) {
        switch outcome {
        case .miss: miss &+= 1
        case .hit: hit &+= 1
        case .inFlight: inFlight &+= 1
        case .completed: completed &+= 1
        case .mismatch: mismatch &+= 1
        }
    }
}
