import CPrefetch

/// The (series, client) pairs of ``ClientAttribution`` with a value each, stored side by side in one array and found
/// through a small index of tagged positions.
///
/// Applying a commit group looks up every (series, client) cell it has: ~3,000 a group at 1,000 series and 7 callers,
/// in a table of 7,000 pairs that does not fit the core's cache. A `Dictionary` keeps keys and values in two arrays,
/// so a lookup missed the cache on the key, then again on the value, one lookup after the other. Here a pair and its
/// value share an entry, the index (``TaggedIndex``, 8 bytes a bucket: 128 KiB at 7,000 pairs) holds a 32-bit tag of
/// each pair's hash beside its position, and ``candidates(for:)`` lets a caller find the entries of all its cells
/// first and prefetch them, so that their misses overlap instead of coming one after the other (docs/performance.md).
struct ClientPairTable<Value> {
    struct Entry {
        var series: SeriesKey
        var client: ClientName
        var value: Value
    }

    /// Every pair, in insertion order (until ``removeAll(where:)``).
    private(set) var entries: [Entry] = []
    private var index = TaggedIndex()

    var count: Int { entries.count }

    /// The pair's hash: both names' stored hashes, mixed (``HashMixing``).
    static func hash(_ series: SeriesKey, _ client: ClientName) -> UInt64 {
        UInt64(bitPattern: Int64(HashMixing.mix(series.storedHash, client.storedHash, seed: 0)))
    }

    /// The position of the pair's entry, if the table has it.
    func find(_ series: SeriesKey, _ client: ClientName) -> Int? {
        index.find(Self.hash(series, client)) { entries[$0].series == series && entries[$0].client == client }
    }

    /// Adds a pair the table does not have; returns its position.
    mutating func insert(_ series: SeriesKey, _ client: ClientName, value: Value) -> Int {
        if !index.holds(entries.count + 1) { rebuildIndex(capacity: max(16, (entries.count + 1) * 4)) }
        entries.append(Entry(series: series, client: client, value: value))
        index.place(position: entries.count - 1, hash: Self.hash(series, client))
        return entries.count - 1
    }

    /// Changes the value at `position` in place.
    mutating func modifyValue<T>(at position: Int, _ body: (inout Value) -> T) -> T {
        body(&entries[position].value)
    }

    /// For each of `count` pairs, given by their ``hash(_:_:)``, the position of the first entry whose tag matches
    /// (which ``isEntry(at:_:_:)`` confirms), or -1; each such entry is prefetched. Reads only the index.
    func candidates(count: Int, hash: (Int) -> UInt64) -> [Int] {
        var result: [Int] = []
        result.reserveCapacity(count)
        let stride = MemoryLayout<Entry>.stride
        entries.withUnsafeBytes { bytes in
            index.withProbe { probe in
                for offset in 0..<count {
                    let found = probe.firstMatch(hash(offset))
                    if found >= 0 { dv_prefetch_range(bytes.baseAddress! + found * stride, UInt(stride)) }
                    result.append(found)
                }
            }
        }
        return result
    }

    /// Whether the entry at `position` (a candidate, -1 for none) holds the pair.
    func isEntry(at position: Int, _ series: SeriesKey, _ client: ClientName) -> Bool {
        position >= 0 && entries[position].series == series && entries[position].client == client
    }

    /// Removes the entries `shouldRemove` picks; the others keep their order (not their positions).
    mutating func removeAll(where shouldRemove: (Entry) -> Bool) {
        let before = entries.count
        entries.removeAll(where: shouldRemove)
        guard entries.count != before else { return }
        rebuildIndex(capacity: max(16, entries.count * 4))
    }

    private mutating func rebuildIndex(capacity: Int) {
        index.rebuild(capacity: capacity, count: entries.count) { Self.hash(entries[$0].series, entries[$0].client) }
    }
}

extension ClientPairTable: Sendable where Value: Sendable {}
extension ClientPairTable.Entry: Sendable where Value: Sendable {}
