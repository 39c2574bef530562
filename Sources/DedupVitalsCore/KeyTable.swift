/// The tracked keys of ``KeyForensics``: records in creation order, found through a hash index.
///
/// Sized for a million keys: a `Dictionary<KeyHash, KeyRecord>` keeps a power-of-two number of buckets of key and
/// value each (at 1,000,000 keys, 2²¹ buckets of 112 bytes: 235 MB, and an eviction queue on top). Here the records
/// sit once in one array, 104 bytes each with their key, in the order they were created (which is the eviction
/// order), and the index is a power-of-two array of 4-byte positions: about 110 bytes per key. Keys are keyed hashes, already
/// uniformly distributed, so the index uses their low bits directly.
///
/// Removing a key leaves a hole in the records and a deleted mark in the index; both are compacted away once they
/// make up half of the table.
public struct KeyTable: Sendable {
    private struct Slot: Sendable {
        var key: KeyHash
        var record: KeyRecord
        var isUsed: Bool { record.seriesIndex != KeyTable.hole }
    }

    /// `seriesIndex` of a removed slot.
    private static let hole = UInt32.max
    /// Index entries: 0 empty, `deleted` a removed key, otherwise slot position + 1.
    private static let empty: UInt32 = 0
    private static let deleted = UInt32.max

    private var slots: [Slot] = []
    /// Slots before this one are all holes.
    private var head = 0
    private var index: [UInt32] = []
    /// Index entries that are not empty (keys and deleted marks).
    private var indexUsed = 0
    public private(set) var count = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }

    public subscript(key: KeyHash) -> KeyRecord? {
        guard let position = position(of: key) else { return nil }
        return slots[position].record
    }

    /// Replaces the record of a tracked key, or adds the key as the newest. Returns the previous record.
    @discardableResult
    public mutating func updateValue(_ record: KeyRecord, forKey key: KeyHash) -> KeyRecord? {
        if let position = position(of: key) {
            defer { replaceRecord(at: position, with: record) }
            return slots[position].record
        }
        insert(record, forNewKey: key)
        return nil
    }

    /// Where a tracked key's record is, to read it and then replace it without a second lookup. A position stays valid
    /// until a key is removed.
    public func position(of key: KeyHash) -> Int? { find(key)?.position }

    public func record(at position: Int) -> KeyRecord { slots[position].record }

    public mutating func replaceRecord(at position: Int, with record: KeyRecord) {
        precondition(record.seriesIndex != Self.hole, "series index \(Self.hole) is reserved")
        slots[position].record = record
    }

    /// Adds a key that is not tracked (the caller has just looked it up) as the newest.
    public mutating func insert(_ record: KeyRecord, forNewKey key: KeyHash) {
        precondition(record.seriesIndex != Self.hole, "series index \(Self.hole) is reserved")
        if (indexUsed + 1) * 4 > index.count * 3 { rebuildIndex(minimumCapacity: count + 1) }
        slots.append(Slot(key: key, record: record))
        insertIntoIndex(key, position: slots.count - 1)
        count += 1
    }

    /// Forgets a key; returns its record.
    @discardableResult
    public mutating func removeValue(forKey key: KeyHash) -> KeyRecord? {
        guard let (bucket, position) = find(key) else { return nil }
        let record = slots[position].record
        index[bucket] = Self.deleted
        slots[position].record.seriesIndex = Self.hole
        count -= 1
        while head < slots.count, !slots[head].isUsed { head += 1 }
        if slots.count - count > max(1024, count) { compact() }
        return record
    }

    /// The oldest tracked key (created first).
    public var oldest: (key: KeyHash, record: KeyRecord)? {
        guard head < slots.count else { return nil }
        return (slots[head].key, slots[head].record)
    }

    /// Every tracked key, oldest first.
    public func forEach(_ body: (KeyHash, KeyRecord) throws -> Void) rethrows {
        for slot in slots[head...] where slot.isUsed { try body(slot.key, slot.record) }
    }

    /// The keys whose records match `predicate`, oldest first.
    public func keys(where predicate: (KeyRecord) -> Bool) -> [KeyHash] {
        var keys: [KeyHash] = []
        forEach { key, record in if predicate(record) { keys.append(key) } }
        return keys
    }

    // MARK: Index

    private static func bucket(of key: KeyHash, mask: Int) -> Int {
        Int(truncatingIfNeeded: key.low) & mask
    }

    /// The index bucket and slot position of a tracked key (linear probing from its bucket).
    private func find(_ key: KeyHash) -> (bucket: Int, position: Int)? {
        guard !index.isEmpty else { return nil }
        let mask = index.count - 1
        var bucket = Self.bucket(of: key, mask: mask)
        while true {
            let entry = index[bucket]
            if entry == Self.empty { return nil }
            if entry != Self.deleted, slots[Int(entry - 1)].key == key { return (bucket, Int(entry - 1)) }
            bucket = (bucket + 1) & mask
        }
    }

    private mutating func insertIntoIndex(_ key: KeyHash, position: Int) {
        let mask = index.count - 1
        var bucket = Self.bucket(of: key, mask: mask)
        while index[bucket] != Self.empty, index[bucket] != Self.deleted { bucket = (bucket + 1) & mask }
        if index[bucket] == Self.empty { indexUsed += 1 }
        index[bucket] = UInt32(position + 1)
    }

    /// A fresh index for the used slots, at most 3/4 full with room for `minimumCapacity` keys.
    private mutating func rebuildIndex(minimumCapacity: Int) {
        var capacity = 16
        while capacity * 3 < max(minimumCapacity, count) * 4 + 4 { capacity *= 2 }
        index = [UInt32](repeating: Self.empty, count: capacity)
        indexUsed = 0
        for position in slots.indices where slots[position].isUsed {
            insertIntoIndex(slots[position].key, position: position)
        }
    }

    /// Drops the holes (keeping the order) and rebuilds the index.
    private mutating func compact() {
        slots.removeAll { !$0.isUsed }
        head = 0
        rebuildIndex(minimumCapacity: count)
    }
}
