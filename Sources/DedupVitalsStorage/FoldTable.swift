import CPrefetch
import DedupVitalsCore

/// A fold's sums per cell: each key with its counts in one entry, found through a ``TaggedIndex``.
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
    private var index = TaggedIndex()

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }

    /// The sum of `key`'s cells, if any was added.
    subscript(key: Key) -> OutcomeCounts? { find(key).map { entries[$0].counts } }

    /// Adds each cell's counts to its sum (cells may repeat).
    mutating func add(_ cells: [(key: Key, counts: OutcomeCounts)]) {
        guard !cells.isEmpty else { return }
        if !index.holds(entries.count + cells.count) { rebuildIndex(capacity: (entries.count + cells.count) * 4) }
        // Positions stay valid while entries are appended (only the index grows), so candidates found first are
        // still right when their cells are added.
        var candidates = [Int](repeating: -1, count: cells.count)
        let stride = MemoryLayout<Entry>.stride
        entries.withUnsafeBytes { bytes in
            index.withProbe { probe in
                for offset in cells.indices {
                    let found = probe.firstMatch(Self.hash(cells[offset].key))
                    if found >= 0 { dv_prefetch_range(bytes.baseAddress! + found * stride, UInt(stride)) }
                    candidates[offset] = found
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
                entries.append(Entry(key: cell.key, counts: cell.counts))
                index.place(position: entries.count - 1, hash: Self.hash(cell.key))
            }
        }
    }

    private static func hash(_ key: Key) -> UInt64 { UInt64(bitPattern: Int64(key._rawHashValue(seed: 0))) }

    private func find(_ key: Key) -> Int? {
        index.find(Self.hash(key)) { entries[$0].key == key }
    }

    private mutating func rebuildIndex(capacity: Int) {
        index.rebuild(capacity: capacity, count: entries.count) { Self.hash(entries[$0].key) }
    }
}
