/// A ``KeyRecord`` as ``KeyTable`` keeps it: 48 bytes instead of 88, so that a slot with its key takes 64 bytes, a
/// cache line (a million tracked keys: 61 MiB of slots instead of 99).
///
/// - The times are unsigned 32-bit distances back from `lastSeenMs`, which is the latest time of the record (it is
///   the maximum of every event time the record saw), so the distances of a live record are never negative. A time of
///   0 (none) is kept as `UInt32.max`. 32 bits reach 49.7 days back.
/// - The five counts are 16-bit.
/// - The traces are not here: most keys have none (a client reports no trace context), and a pointer in every slot
///   was 8 bytes per key. A flag says whether the key has traces; the table keeps them beside the slots, by key
///   (``record(traces:)`` puts them back).
///
/// A record that does not fit — a key seen over more than 49.7 days, a count above 65,535, or any stored record whose
/// times are not ordered as the detectors write them — is not packed: ``init(_:)`` returns nil and the table keeps
/// the whole record aside, in its slot a placeholder (see ``KeyTable``). Nothing is rounded or saturated: unpacking
/// gives back exactly the record that was packed.
struct PackedKeyRecord: Sendable {
    private static let noTime = UInt32.max

    private var lastSeenMs: Int64
    private var payloadFingerprint: UInt64
    private var createdAgo: UInt32
    private var firstMissAgo: UInt32
    private var lastMissAgo: UInt32
    private var completedAgo: UInt32
    var seriesIndex: UInt32
    private var miss: UInt16
    private var hit: UInt16
    private var inFlight: UInt16
    private var completed: UInt16
    private var mismatch: UInt16
    private var payloadVariants: UInt8
    /// ``isOpen`` and ``hasTraces``, one bit each.
    private var flags: UInt8

    private static let openFlag: UInt8 = 1
    private static let tracesFlag: UInt8 = 2

    var isOpen: Bool { flags & Self.openFlag != 0 }
    /// Whether the record had traces when it was packed (the table keeps them).
    var hasTraces: Bool { flags & Self.tracesFlag != 0 }

    /// A slot's record without content (a removed slot, or one whose record is kept aside); only its series index is
    /// kept. A packed record's creation is never ``noTime`` back, so that marks it.
    init(placeholderFor seriesIndex: UInt32) {
        lastSeenMs = 0
        payloadFingerprint = 0
        (createdAgo, firstMissAgo, lastMissAgo, completedAgo) = (Self.noTime, 0, 0, 0)
        self.seriesIndex = seriesIndex
        (miss, hit, inFlight, completed, mismatch) = (0, 0, 0, 0, 0)
        payloadVariants = 0
        flags = 0
    }

    /// Whether this is a placeholder rather than a record.
    var isPlaceholder: Bool { createdAgo == Self.noTime }

    /// The packed form of `record`; nil when it does not fit.
    init?(_ record: KeyRecord) {
        let base = record.lastSeenMs
        /// The distance of `time` back from the base; `time` 0 is "none" where `optional`.
        func ago(_ time: Int64, optional: Bool) -> UInt32? {
            if optional, time == 0 { return Self.noTime }
            let (distance, overflow) = base.subtractingReportingOverflow(time)
            guard !overflow, distance >= 0, distance < Int64(Self.noTime) else { return nil }
            return UInt32(distance)
        }
        guard let created = ago(record.createdMs, optional: false),
            let firstMiss = ago(record.firstMissMs, optional: true),
            let lastMiss = ago(record.lastMissMs, optional: true),
            let completedAt = ago(record.completedMs, optional: true),
            let miss = UInt16(exactly: record.miss), let hit = UInt16(exactly: record.hit),
            let inFlight = UInt16(exactly: record.inFlight), let completed = UInt16(exactly: record.completed),
            let mismatch = UInt16(exactly: record.mismatch)
        else { return nil }
        lastSeenMs = base
        payloadFingerprint = record.payloadFingerprint
        (createdAgo, firstMissAgo, lastMissAgo, completedAgo) = (created, firstMiss, lastMiss, completedAt)
        seriesIndex = record.seriesIndex
        (self.miss, self.hit, self.inFlight, self.completed, self.mismatch) = (miss, hit, inFlight, completed, mismatch)
        payloadVariants = record.payloadVariants
        flags = (record.open ? Self.openFlag : 0) | (record.traces != nil ? Self.tracesFlag : 0)
    }

    /// The record, exactly as it was packed, with `traces` (nil unless ``hasTraces``).
    func record(traces: KeyTraces?) -> KeyRecord {
        func time(_ ago: UInt32) -> Int64 { ago == Self.noTime ? 0 : lastSeenMs - Int64(ago) }
        var record = KeyRecord(seriesIndex: seriesIndex, createdMs: lastSeenMs - Int64(createdAgo))
        record.firstMissMs = time(firstMissAgo)
        record.lastMissMs = time(lastMissAgo)
        record.completedMs = time(completedAgo)
        record.lastSeenMs = lastSeenMs
        record.payloadFingerprint = payloadFingerprint
        record.traces = traces
        record.open = isOpen
        record.payloadVariants = payloadVariants
        (record.miss, record.hit, record.inFlight, record.completed, record.mismatch) = (
            UInt32(miss), UInt32(hit), UInt32(inFlight), UInt32(completed), UInt32(mismatch)
        )
        return record
    }
}
