import CPrefetch

/// The tracked keys of ``KeyForensics``: records in creation order, found through a hash index.
///
/// Sized for a million keys: a `Dictionary<KeyHash, KeyRecord>` keeps a power-of-two number of buckets of key and
/// value each (at 1,000,000 keys, 2²¹ buckets of 112 bytes: 235 MB, and an eviction queue on top). Here the records
/// sit once, 64 bytes each with their key (a ``PackedKeyRecord``), in the order they were created (which is the
/// eviction order), and the index is a power-of-two array of 4-byte positions: about 72 bytes per key. The traces of
/// the keys that have some (``KeyTraces``) are kept in a dictionary beside the slots. Keys are keyed
/// hashes, already uniformly distributed, so the index uses their low bits directly. A record too wide to pack (a key
/// seen over more than 49.7 days, a count above 65,535) is kept whole in a dictionary beside its slot.
///
/// An index entry holds a slot's position in its low bits and a tag of its key in the bits that positions do not need
/// (10 at a million keys): a probe compares the tag before it reads the slot. Without it every occupied entry on a
/// probe's path read a slot to compare the key, each a cache miss in ~70 MB of slots, and a new key (a lookup that
/// misses, then an insert) read several: the index lookups were 17 % of the service's samples with a fresh key on
/// every event (docs/performance.md). Positions then have to fit those low bits: reaching their limit renumbers
/// the slots from 0, which the table does once per ~`2 × index size` insertions.
///
/// The slots are in fixed-size chunks of 32,768 (2.25 MiB), so that growing never copies them (one array would hold
/// the old and the new storage at once while it doubles) and the chunks that eviction empties at the oldest end are
/// freed at once. Removing a key leaves a hole in its chunk and a deleted mark in the index; both are compacted away
/// once holes make up half of the table.
///
/// Keys are also numbered by **labels**, in creation order, for key-log compaction (``oldestLabel``): a label is a
/// slot's position plus an offset, so it costs no memory. Renumbering moves the offset so that the oldest key keeps its
/// label; the others' labels may drop, never rise, and keep their order.
public struct KeyTable: Sendable {
    private struct Slot: Sendable {
        var key: KeyHash
        var record: PackedKeyRecord
        var isUsed: Bool { record.seriesIndex != KeyTable.hole }
    }

    /// `seriesIndex` of a removed slot.
    private static let hole = UInt32.max
    /// Index entries: 0 empty, `deleted` a removed key, otherwise slot position + 1.
    private static let empty: UInt32 = 0
    private static let deleted = UInt32.max

    private let chunkShift: Int
    private var chunkSize: Int { 1 << chunkShift }
    /// Positions are absolute: a slot keeps its position while chunks before it are freed. Positions up to this one
    /// are allowed at most; reaching the limit (this, or what the index's position bits hold) renumbers the slots
    /// from 0 (a compaction).
    private let positionLimit: Int
    /// The fewest low bits of an index entry given to positions; the bits above hold the key's tag.
    private let minimumPositionBits: Int
    /// The low bits of an index entry that hold a position + 1; the bits above hold the tag.
    private var positionBits = 16
    private var chunks: [[Slot]] = []
    /// The latest chunk that eviction emptied, kept (emptied, its capacity reserved) for the next chunk the newest end
    /// needs: at the key cap the table frees a chunk at the oldest end and starts one at the newest every 32,768 new keys,
    /// and a fresh allocation of 2 MiB is faulted in page by page (6 % of `KeyForensics.process` with a fresh key on
    /// every event, docs/performance.md). At most one chunk more than the keys need.
    private var spareChunk: [Slot] = []
    /// The position of the first slot of the first chunk.
    private var base = 0
    /// Slots before this position are all holes.
    private var head = 0
    /// The position after the newest slot.
    private var end = 0
    /// A slot's label is its position plus this (see ``oldestLabel``).
    private var labelOffset = 0
    private var index: [UInt32] = []
    /// Index entries that are not empty (keys and deleted marks).
    private var indexUsed = 0
    /// The records that do not fit a ``PackedKeyRecord`` (their slots hold a placeholder).
    private var unpacked: [KeyHash: KeyRecord] = [:]
    /// The traces of the packed records that have some (``PackedKeyRecord/hasTraces``).
    private var traces: [KeyHash: KeyTraces] = [:]
    public private(set) var count = 0

    public init() {
        self.init(chunkShift: 15, positionLimit: Int(UInt32.max) - 1)
    }

    /// A table with chunks of `1 << chunkShift` slots whose positions are renumbered on reaching `positionLimit`, and
    /// tags of at most `32 - minimumPositionBits` bits (small chunks and limits and short tags let tests reach chunk
    /// frees, renumbering and tags that match for different keys).
    init(chunkShift: Int, positionLimit: Int, minimumPositionBits: Int = 16) {
        precondition(chunkShift > 0 && positionLimit > 1 && positionLimit <= Int(UInt32.max) - 1)
        precondition((2...31).contains(minimumPositionBits))
        self.chunkShift = chunkShift
        self.positionLimit = positionLimit
        self.minimumPositionBits = minimumPositionBits
    }

    public var isEmpty: Bool { count == 0 }

    /// Prefetches the index buckets of `keys`, then the slot of the first entry whose tag matches, so that lookups
    /// of the same keys that follow find them in the cache. Prefetches do not wait, so a batch's misses overlap,
    /// where lookups one after the other wait for each miss in turn (at a million keys the index is 8 MB and the
    /// slots 70 MB: a lookup is a miss or two). Batches call it before their lookups.
    ///
    /// The buckets are prefetched ``prefetchDistance`` keys ahead of the key whose bucket is read: a core tracks a
    /// couple of dozen misses at once, so prefetching a whole batch's buckets first left most of them to be read
    /// with a full miss each (the read of a bucket was 70 % of this function's samples, docs/performance.md).
    public func prefetch(_ keys: some Collection<KeyHash>) {
        guard !index.isEmpty else { return }
        let keys = Array(keys)
        let mask = index.count - 1
        let tagMask = tagMask
        let distance = Self.prefetchDistance
        index.withUnsafeBufferPointer { index in
            for key in keys.prefix(distance) { dv_prefetch(index.baseAddress! + Self.bucket(of: key, mask: mask)) }
            for (position, key) in keys.enumerated() {
                if position + distance < keys.count {
                    dv_prefetch(index.baseAddress! + Self.bucket(of: keys[position + distance], mask: mask))
                }
                let tag = tag(of: key)
                var bucket = Self.bucket(of: key, mask: mask)
                while index[bucket] != Self.empty {
                    if let position = candidate(index[bucket], tag: tag, tagMask: tagMask) {
                        let (chunk, offset) = locate(position)
                        chunks[chunk].withUnsafeBufferPointer { dv_prefetch($0.baseAddress! + offset) }
                        break
                    }
                    bucket = (bucket + 1) & mask
                }
            }
        }
    }

    /// The bytes of one slot: a key and its packed record.
    static var slotStride: Int { MemoryLayout<Slot>.stride }

    /// Chunks of slots allocated.
    var chunkCount: Int { chunks.count }

    /// The capacity of the emptied chunk kept for reuse (for tests).
    var spareCapacity: Int { spareChunk.capacity }

    /// Keys whose records are kept whole, beside the packed slots.
    public var unpackedCount: Int { unpacked.count }

    /// Keys whose traces are kept beside the packed slots.
    var tracedCount: Int { traces.count }

    public subscript(key: KeyHash) -> KeyRecord? {
        guard let position = position(of: key) else { return nil }
        return record(at: position)
    }

    /// Replaces the record of a tracked key, or adds the key as the newest. Returns the previous record.
    @discardableResult
    public mutating func updateValue(_ record: KeyRecord, forKey key: KeyHash) -> KeyRecord? {
        if let position = position(of: key) {
            defer { replaceRecord(at: position, with: record) }
            return self.record(at: position)
        }
        insert(record, forNewKey: key)
        return nil
    }

    /// Where a tracked key's record is, to read it and then replace it without a second lookup. A position stays valid
    /// until a key is removed.
    public func position(of key: KeyHash) -> Int? { find(key)?.position }

    public func record(at position: Int) -> KeyRecord {
        record(of: slot(at: position))
    }

    private func record(of slot: Slot) -> KeyRecord {
        if slot.record.isPlaceholder, let record = unpacked[slot.key] { return record }
        return slot.record.record(traces: slot.record.hasTraces ? traces[slot.key] : nil)
    }

    public mutating func replaceRecord(at position: Int, with record: KeyRecord) {
        precondition(record.seriesIndex != Self.hole, "series index \(Self.hole) is reserved")
        let (chunk, offset) = locate(position)
        let key = chunks[chunk][offset].key
        let old = chunks[chunk][offset].record
        if old.isPlaceholder { unpacked[key] = nil }
        let new = pack(record, forKey: key)
        if old.hasTraces, !new.hasTraces { traces[key] = nil }
        chunks[chunk][offset].record = new
    }

    /// Adds a key that is not tracked (the caller has just looked it up) as the newest.
    public mutating func insert(_ record: KeyRecord, forNewKey key: KeyHash) {
        precondition(record.seriesIndex != Self.hole, "series index \(Self.hole) is reserved")
        if end >= currentPositionLimit { compact() }
        if (indexUsed + 1) * 4 > index.count * 3 { rebuildIndex(minimumCapacity: count + 1) }
        let chunk = (end - base) >> chunkShift
        if chunk == chunks.count {
            chunks.append([])
            swap(&chunks[chunk], &spareChunk)
            chunks[chunk].reserveCapacity(chunkSize)
        }
        chunks[chunk].append(Slot(key: key, record: pack(record, forKey: key)))
        insertIntoIndex(key, position: end)
        end += 1
        count += 1
    }

    /// Forgets a key; returns its record.
    @discardableResult
    public mutating func removeValue(forKey key: KeyHash) -> KeyRecord? {
        guard let (bucket, position) = find(key) else { return nil }
        let record = record(at: position)
        index[bucket] = Self.deleted
        setHole(at: position)
        return record
    }

    /// Makes a slot a hole (forgetting what its key kept aside), moves the oldest end past holes and frees the chunks
    /// left empty.
    private mutating func setHole(at position: Int) {
        let (chunk, offset) = locate(position)
        let slot = chunks[chunk][offset]
        if slot.record.isPlaceholder { unpacked[slot.key] = nil }
        if slot.record.hasTraces { traces[slot.key] = nil }
        chunks[chunk][offset].record = PackedKeyRecord(placeholderFor: Self.hole)
        count -= 1
        while head < end, !isUsed(head) { head += 1 }
        // Free the chunks that hold only holes now.
        let emptied = min((head - base) >> chunkShift, chunks.count)
        if emptied > 0 {
            swap(&spareChunk, &chunks[emptied - 1])  // moved, not copied: emptying a shared array would allocate
            spareChunk.removeAll(keepingCapacity: true)
            chunks.removeFirst(emptied)
            base += emptied << chunkShift
        }
        if end - head - count > max(1024, count) { compact() }
    }

    /// The oldest tracked key (created first).
    public var oldest: (key: KeyHash, record: KeyRecord)? {
        guard head < end else { return nil }
        let slot = slot(at: head)
        return (slot.key, record(of: slot))
    }

    /// A key taken out of the table with its record as the table kept it: unpacked only when read (``record``), which
    /// eviction needs only if its group's transaction fails.
    public struct RemovedKey: Sendable {
        public let key: KeyHash
        fileprivate let packed: PackedKeyRecord
        /// The key's traces, moved out of the table's dictionary (nil unless the packed record has traces).
        fileprivate let traces: KeyTraces?
        /// The whole record when it did not fit a packed one (rare: a box keeps this value small).
        fileprivate let unpacked: UnpackedRecord?

        public var record: KeyRecord {
            unpacked?.record ?? packed.record(traces: packed.hasTraces ? traces : nil)
        }

        /// Whether the record holds its key's lock (is open).
        public var isOpen: Bool { unpacked?.record.open ?? packed.isOpen }

        public var seriesIndex: UInt32 { unpacked?.record.seriesIndex ?? packed.seriesIndex }
    }

    fileprivate final class UnpackedRecord: Sendable {
        let record: KeyRecord
        init(_ record: KeyRecord) { self.record = record }
    }

    /// Forgets the oldest tracked key, as eviction at the key cap does once per new key, and returns it. Its index
    /// entry is left in place: an entry whose position is before the oldest slot counts as a deleted mark (positions
    /// only grow until the index is rebuilt), so eviction reads no index bucket, which at a million keys is a cache
    /// miss.
    @discardableResult
    public mutating func removeOldest() -> RemovedKey? {
        guard head < end else { return nil }
        let (chunk, offset) = locate(head)
        // Eviction reads the slots in order, one per new key, with the batch's other work in between: fetch the one
        // that comes 8 evictions later now (reading the oldest slot was a fifth of eviction's samples).
        if head + Self.evictionLookahead < end {
            let (aheadChunk, aheadOffset) = locate(head + Self.evictionLookahead)
            // Through a mutating access, which works on the chunk in place: reading `chunks[aheadChunk]` for its
            // buffer retained and released the chunk around the prefetch (eviction's most frequent retain).
            chunks[aheadChunk].withUnsafeMutableBufferPointer { dv_prefetch($0.baseAddress! + aheadOffset) }
        }
        let slot = chunks[chunk][offset]
        let removed = RemovedKey(
            key: slot.key, packed: slot.record,
            traces: slot.record.hasTraces ? traces.removeValue(forKey: slot.key) : nil,
            unpacked: slot.record.isPlaceholder ? unpacked.removeValue(forKey: slot.key).map(UnpackedRecord.init) : nil)
        setHole(at: head)
        return removed
    }

    /// No tracked key has a label below this one, and it never decreases: a key removed with every key created before
    /// it can be known gone without being looked up (key-log compaction deletes log rows unread this way).
    public var oldestLabel: Int { labelOffset + head }

    /// Every tracked key has a label below this one (the label the next new key gets, or less after renumbering).
    public var labelBound: Int { labelOffset + end }

    /// A tracked key's label (for tests: compaction needs only the bounds).
    func label(of key: KeyHash) -> Int? { position(of: key).map { labelOffset + $0 } }

    /// Every tracked key, oldest first.
    public func forEach(_ body: (KeyHash, KeyRecord) throws -> Void) rethrows {
        for position in head..<end {
            let slot = slot(at: position)
            guard slot.isUsed else { continue }
            try body(slot.key, record(of: slot))
        }
    }

    /// The keys whose records match `predicate`, oldest first.
    public func keys(where predicate: (KeyRecord) -> Bool) -> [KeyHash] {
        var keys: [KeyHash] = []
        forEach { key, record in if predicate(record) { keys.append(key) } }
        return keys
    }

    // MARK: Slots

    // Inlined: called, a non-mutating method of the table received it as a copy of the whole struct (120 bytes),
    // which the callers made per call (per eviction, per lookup; docs/performance.md).
    @inline(__always)
    private func locate(_ position: Int) -> (chunk: Int, offset: Int) {
        let relative = position - base
        return (relative >> chunkShift, relative & (chunkSize - 1))
    }

    @inline(__always)
    private func slot(at position: Int) -> Slot {
        let (chunk, offset) = locate(position)
        return chunks[chunk][offset]
    }

    /// The key of a slot, without copying its record (the index compares keys on every probe).
    @inline(__always)
    private func key(at position: Int) -> KeyHash {
        let (chunk, offset) = locate(position)
        return chunks[chunk][offset].key
    }

    @inline(__always)
    private func isUsed(_ position: Int) -> Bool {
        let (chunk, offset) = locate(position)
        return chunks[chunk][offset].isUsed
    }

    /// The packed form of `record` (its traces put aside), or a placeholder with the record put aside when it does not
    /// fit.
    private mutating func pack(_ record: KeyRecord, forKey key: KeyHash) -> PackedKeyRecord {
        if let packed = PackedKeyRecord(record) {
            if let recordTraces = record.traces { traces[key] = recordTraces }
            return packed
        }
        unpacked[key] = record
        return PackedKeyRecord(placeholderFor: record.seriesIndex)
    }

    /// Drops the holes (keeping the order), in place, frees the chunks left empty, numbers the slots from 0 again and
    /// rebuilds the index.
    private mutating func compact() {
        renumber()
        rebuildIndex(minimumCapacity: count)
    }

    /// ``compact()`` without the index (which the caller rebuilds).
    private mutating func renumber() {
        var write = 0
        for read in (head - base)..<(end - base) {
            let slot = chunks[read >> chunkShift][read & (chunkSize - 1)]
            guard slot.isUsed else { continue }
            chunks[write >> chunkShift][write & (chunkSize - 1)] = slot
            write += 1
        }
        let kept = (write + chunkSize - 1) >> chunkShift
        chunks.removeLast(chunks.count - kept)
        if let last = chunks.indices.last { chunks[last].removeLast(chunks[last].count - (write - (last << chunkShift))) }
        // The oldest key keeps its label; the others' can only drop (their positions close up behind it).
        labelOffset += head
        (base, head, end) = (0, 0, write)
        precondition(end < positionLimit, "more keys than positions")
    }

    // MARK: Index

    /// Positions below this fit an index entry's position bits (and none spells `deleted`).
    private var currentPositionLimit: Int { min(positionLimit, (1 << positionBits) - 2) }

    private static func bucket(of key: KeyHash, mask: Int) -> Int {
        Int(truncatingIfNeeded: key.low) & mask
    }

    /// The key's tag in place in an entry: the top bits of a mix of both halves (real keys are keyed hashes, but
    /// the mix keeps the tags of structured keys, such as the tests', apart from their buckets).
    private func tag(of key: KeyHash) -> UInt32 {
        let mixed = (key.high ^ key.low) &* 0x9E37_79B9_7F4A_7C15
        return UInt32(truncatingIfNeeded: mixed >> UInt64(32 + positionBits)) << UInt32(positionBits)
    }

    private var tagMask: UInt32 { ~((1 << UInt32(positionBits)) - 1) }

    /// The slot position of an occupied index entry whose tag is `tag`, the slot to compare keys with; nil for a
    /// deleted mark, another tag, or a position before the oldest slot (left by ``removeOldest()``: a deleted mark
    /// too, whose chunk may be freed).
    private func candidate(_ entry: UInt32, tag: UInt32, tagMask: UInt32) -> Int? {
        guard entry & tagMask == tag, entry != Self.deleted else { return nil }
        let position = Int(entry & ~tagMask) - 1
        return position >= head ? position : nil
    }

    /// The index bucket and slot position of a tracked key (linear probing from its bucket). Inlined for the same
    /// reason as ``locate(_:)``: called, it got a copy of the table made per lookup.
    @inline(__always)
    private func find(_ key: KeyHash) -> (bucket: Int, position: Int)? {
        guard !index.isEmpty else { return nil }
        let mask = index.count - 1
        let tag = tag(of: key)
        let tagMask = tagMask
        var bucket = Self.bucket(of: key, mask: mask)
        while true {
            let entry = index[bucket]
            if entry == Self.empty { return nil }
            if let position = candidate(entry, tag: tag, tagMask: tagMask), self.key(at: position) == key {
                return (bucket, position)
            }
            bucket = (bucket + 1) & mask
        }
    }

    private mutating func insertIntoIndex(_ key: KeyHash, position: Int) {
        let mask = index.count - 1
        var bucket = Self.bucket(of: key, mask: mask)
        while index[bucket] != Self.empty, index[bucket] != Self.deleted { bucket = (bucket + 1) & mask }
        if index[bucket] == Self.empty { indexUsed += 1 }
        index[bucket] = tag(of: key) | UInt32(position + 1)
    }

    /// A fresh index for the used slots, at most 3/4 full with room for `minimumCapacity` keys. Its positions get
    /// one bit more than its buckets need, so that renumbering comes at most once per ~`capacity` insertions; when
    /// the current positions do not fit, the slots are renumbered first.
    ///
    /// The slots are read in order but their buckets are random, a cache miss each at a million keys (an 8 MB
    /// index): the buckets of each block of slots are prefetched before the block's keys are written, so that their
    /// misses overlap. At the key cap, with eviction's deleted marks filling the index, a rebuild comes every
    /// ~570,000 new keys and took 3.7 % of the service's samples with a fresh key on every event, 2.0 % with the
    /// prefetch (docs/performance.md).
    private mutating func rebuildIndex(minimumCapacity: Int) {
        var capacity = 16
        while capacity * 3 < max(minimumCapacity, count) * 4 + 4 { capacity *= 2 }
        positionBits = min(31, max(minimumPositionBits, capacity.trailingZeroBitCount + 1))
        if end >= currentPositionLimit { renumber() }
        // At the key cap the index keeps its size from one rebuild to the next: its storage is emptied and reused.
        // A new array of 8 MB (at a million keys) was mapped fresh, faulted in page by page, and the old one unmapped,
        // every ~570,000 new keys.
        var fresh: [UInt32] = []
        swap(&fresh, &index)
        if fresh.count == capacity {
            fresh.withUnsafeMutableBufferPointer { $0.update(repeating: Self.empty) }
        } else {
            fresh = []  // the old storage freed before the new one is allocated (not both at once)
            fresh = [UInt32](repeating: Self.empty, count: capacity)
        }
        let mask = capacity - 1
        var used = 0
        fresh.withUnsafeMutableBufferPointer { fresh in
            var start = head
            while start < end {
                let block = start..<min(start + Self.rebuildBlock, end)
                for position in block where isUsed(position) {
                    dv_prefetch(fresh.baseAddress! + Self.bucket(of: key(at: position), mask: mask))
                }
                for position in block where isUsed(position) {
                    let key = key(at: position)
                    var bucket = Self.bucket(of: key, mask: mask)
                    while fresh[bucket] != Self.empty { bucket = (bucket + 1) & mask }
                    fresh[bucket] = tag(of: key) | UInt32(position + 1)
                    used += 1
                }
                start = block.upperBound
            }
        }
        index = fresh
        indexUsed = used
    }

    /// How many slots ahead of the oldest ``removeOldest()`` prefetches.
    private static let evictionLookahead = 8

    /// How many keys ahead of the bucket it reads ``prefetch(_:)`` prefetches one.
    private static let prefetchDistance = 16

    /// Slots whose buckets ``rebuildIndex(minimumCapacity:)`` prefetches at once.
    private static let rebuildBlock = 32
}
