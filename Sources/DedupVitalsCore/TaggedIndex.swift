/// The index of a table whose entries sit side by side in an array: 8-byte buckets that hold a 32-bit tag of each
/// entry's hash beside its position, at most half full, probed linearly.
///
/// The write path's large tables (the callers' (series, client) pairs, ``ClientPairTable``; a fold's sums, in the
/// storage) look up thousands of cells a group that do not fit the core's cache. With the key and value in one entry
/// and this index, a lookup misses on the entry once, and a caller can find the entries of a whole batch first and
/// prefetch them (``withProbe(_:)``) so that their misses overlap (docs/performance.md). The tables keep their
/// entries; the index only maps hashes to positions, which stay valid while entries are appended.
public struct TaggedIndex: Sendable {
    /// 0 empty, otherwise the hash's upper 32 bits (the tag) above the entry's position + 1.
    @usableFromInline var buckets: [UInt64] = []

    public init() {}

    /// Whether `count` entries fit without a rebuild.
    @inlinable public func holds(_ count: Int) -> Bool { count * 2 <= buckets.count }

    /// Rebuilds the index for at least `capacity` buckets from the hashes of entries `0..<count`.
    @inlinable public mutating func rebuild(capacity: Int, count: Int, hash: (Int) -> UInt64) {
        var size = 16
        while size < capacity { size <<= 1 }
        buckets = [UInt64](repeating: 0, count: size)
        for position in 0..<count { place(position: position, hash: hash(position)) }
    }

    /// Adds the entry at `position` (the index must hold one more: ``holds(_:)``).
    @inlinable public mutating func place(position: Int, hash: UInt64) {
        let mask = buckets.count - 1
        var bucket = Int(truncatingIfNeeded: hash) & mask
        while buckets[bucket] != 0 { bucket = (bucket + 1) & mask }
        buckets[bucket] = (hash >> 32) << 32 | UInt64(position + 1)
    }

    /// Lookups of candidates for a whole batch of keys (``Probe/firstMatch(_:)``), the index's storage read in place.
    @inlinable public func withProbe<R>(_ body: (Probe) throws -> R) rethrows -> R {
        try buckets.withUnsafeBufferPointer { try body(Probe(buckets: $0)) }
    }

    /// The index, read in place (see ``withProbe(_:)``).
    public struct Probe {
        @usableFromInline let buckets: UnsafeBufferPointer<UInt64>

        @inlinable init(buckets: UnsafeBufferPointer<UInt64>) { self.buckets = buckets }

        /// The position of the first entry whose tag matches `hash`'s, or -1: a candidate that the table confirms (a
        /// tag can match another key).
        @inlinable public func firstMatch(_ hash: UInt64) -> Int {
            guard !buckets.isEmpty else { return -1 }
            let mask = buckets.count - 1
            var bucket = Int(truncatingIfNeeded: hash) & mask
            while case let slot = buckets[bucket], slot != 0 {
                if slot >> 32 == hash >> 32 { return Int(truncatingIfNeeded: slot & 0xFFFF_FFFF) - 1 }
                bucket = (bucket + 1) & mask
            }
            return -1
        }
    }

    /// The position of the entry with `hash` that `isEntry` accepts, if any.
    @inlinable public func find(_ hash: UInt64, isEntry: (Int) -> Bool) -> Int? {
        guard !buckets.isEmpty else { return nil }
        let mask = buckets.count - 1
        var bucket = Int(truncatingIfNeeded: hash) & mask
        while case let slot = buckets[bucket], slot != 0 {
            if slot >> 32 == hash >> 32 {
                let position = Int(truncatingIfNeeded: slot & 0xFFFF_FFFF) - 1
                if isEntry(position) { return position }
            }
            bucket = (bucket + 1) & mask
        }
        return nil
    }
}
