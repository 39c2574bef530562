import CPrefetch
import DedupVitalsCore

/// A fold's sums per cell: each key with its counts in one entry, found through an index of tagged positions.
///
/// A fold adds every cell of every row to its cell's sum: at 1,000 series and 7 callers ~4,000 cells a row, into
/// ~8,000 sums that do not fit the core's cache. A `Dictionary` keeps keys and values in two arrays, so each addition
/// missed the cache on the key, then on the counts, one addition after the other. Here a key and its counts share an
/// entry, and ``add(_:)`` first finds the entries of all of a row's cells and prefetches them, then adds, so that
/// their misses overlap (docs/performance.md). Keys are plain integers (``AggregateFold``): nothing to count
/// references of when an entry is copied.
struct FoldTable<Key: Hashable> {
    struct Entry {
        var key: Key
        var counts: OutcomeCounts
    }

    /// Every cell summed, in the order first added.
    private(set) var entries: [Entry] = []
    /// Power-of-two buckets, at most half full: 0 empty, otherwise the hash's upper 32 bits (the tag) above the
    /// entry's position + 1. Linear probing from the hash's low bits.
    private var index: [UInt64] = []

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }

    /// The sum of `key`'s cells, if any was added.
    subscript(key: Key) -> OutcomeCounts? { find(key).map { entries[$0].counts } }

    /// Adds each cell's counts to its sum (cells may repeat).
    mutating func add(_ cells: [(key: Key, counts: OutcomeCounts)]) {
        guard !cells.isEmpty else { return }
        if (entries.count + cells.count) * 2 > index.count { rebuildIndex(capacity: (entries.count + cells.count) * 4) }
        // Positions stay valid while entries are appended (only the index is rebuilt), so candidates found first
        // are still right when their cells are added.
        var candidates = [Int](repeating: -1, count: cells.count)
        let mask = index.count - 1
        let stride = MemoryLayout<Entry>.stride
        entries.withUnsafeBytes { bytes in
            index.withUnsafeBufferPointer { index in
                for offset in cells.indices {
                    let hash = Self.hash(cells[offset].key)
                    var bucket = Int(truncatingIfNeeded: hash) & mask
                    while case let slot = index[bucket], slot != 0 {
                        if slot >> 32 == hash >> 32 {
                            let position = Int(truncatingIfNeeded: slot & 0xFFFF_FFFF) - 1
                            candidates[offset] = position
                            let start = bytes.baseAddress! + position * stride
                            dv_prefetch(start)
                            dv_prefetch(start + stride - 1)
                            break
                        }
                        bucket = (bucket + 1) & mask
                    }
                }
            }
        }
        for offset in cells.indices {
            let cell = cells[offset]
            let candidate = candidates[offset]
            if candidate >= 0, entries[candidate].key == cell.key {
                entries[candidate].counts += cell.counts
            } else if let position = find(cell.key) {
                entries[position].counts += cell.counts
            } else {
                insert(cell.key, counts: cell.counts)
            }
        }
    }

    private static func hash(_ key: Key) -> UInt64 { UInt64(bitPattern: Int64(key._rawHashValue(seed: 0))) }

    private func find(_ key: Key) -> Int? {
        guard !index.isEmpty else { return nil }
        let hash = Self.hash(key)
        let mask = index.count - 1
        var bucket = Int(truncatingIfNeeded: hash) & mask
        while case let slot = index[bucket], slot != 0 {
            if slot >> 32 == hash >> 32 {
                let position = Int(truncatingIfNeeded: slot & 0xFFFF_FFFF) - 1
                if entries[position].key == key { return position }
            }
            bucket = (bucket + 1) & mask
        }
        return nil
    }

    private mutating func insert(_ key: Key, counts: OutcomeCounts) {
        if (entries.count + 1) * 2 > index.count { rebuildIndex(capacity: (entries.count + 1) * 4) }
        entries.append(Entry(key: key, counts: counts))
        place(position: entries.count - 1, hash: Self.hash(key))
    }

    private mutating func rebuildIndex(capacity: Int) {
        var size = 16
        while size < capacity { size <<= 1 }
        index = [UInt64](repeating: 0, count: size)
        for position in entries.indices { place(position: position, hash: Self.hash(entries[position].key)) }
    }

    private mutating func place(position: Int, hash: UInt64) {
        let mask = index.count - 1
        var bucket = Int(truncatingIfNeeded: hash) & mask
        while index[bucket] != 0 { bucket = (bucket + 1) & mask }
        index[bucket] = (hash >> 32) << 32 | UInt64(position + 1)
    }
}
