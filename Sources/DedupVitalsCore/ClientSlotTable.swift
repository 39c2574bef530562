/// A batch's or a group's client cells (``BatchDelta/ClientSlot``) with their counts, in the order they were added,
/// found through their (series, bucket) cell rather than a hash table.
///
/// A client cell is a (series, bucket) cell's position and a caller's; a cell has a few callers (at most the batch's
/// or the group's, 7 in the benchmarks). So each cell keeps a short chain of its client cells, the newest first, and
/// finding one walks that chain comparing caller positions: no hashing, and the arrays walked are small enough to
/// stay in the cache. In an `OrderedDictionary`, each lookup hashed the two positions and walked the dictionary's
/// bit-packed buckets, which made up about half of the group's merge at 1,000 series (docs/performance.md).
public struct ClientSlotTable: Sendable, RandomAccessCollection {
    public typealias Element = (key: BatchDelta.ClientSlot, value: OutcomeCounts)

    /// The client cells, in the order they were added.
    public private(set) var keys: [BatchDelta.ClientSlot] = []
    /// Their counts, by the same positions.
    public private(set) var values: [OutcomeCounts] = []
    /// Per (series, bucket) cell, the position of its newest client cell, or -1.
    private var newest: [Int32] = []
    /// Per client cell, its caller and the position of the one added before it for the same (series, bucket) cell
    /// (or -1): what a walk along a chain reads, side by side.
    private var links: [Link] = []

    private struct Link {
        var client: Int32
        var older: Int32
    }

    public init() {}

    public var startIndex: Int { 0 }
    public var endIndex: Int { keys.count }
    public subscript(position: Int) -> Element { (keys[position], values[position]) }

    /// Makes room for `count` client cells of `cells` (series, bucket) cells.
    public mutating func reserveCapacity(_ count: Int, cells: Int = 0) {
        keys.reserveCapacity(count)
        values.reserveCapacity(count)
        links.reserveCapacity(count)
        newest.reserveCapacity(cells)
    }

    /// The position of the client cell of `cell` and `client`, if the table has it.
    public func position(cell: Int32, client: Int32) -> Int? {
        guard Int(cell) < newest.count else { return nil }
        var position = newest[Int(cell)]
        return links.withUnsafeBufferPointer { links in
            while position >= 0 {
                let link = links[Int(position)]
                if link.client == client { return Int(position) }
                position = link.older
            }
            return nil
        }
    }

    /// Changes the counts of the client cell of `cell` and `client`, added with zero counts when new.
    public mutating func modify(cell: Int32, client: Int32, _ body: (inout OutcomeCounts) -> Void) {
        if let position = position(cell: cell, client: client) {
            body(&values[position])
            return
        }
        if Int(cell) >= newest.count { newest.append(contentsOf: repeatElement(-1, count: Int(cell) + 1 - newest.count)) }
        keys.append(BatchDelta.ClientSlot(cell: cell, client: client))
        values.append(.zero)
        body(&values[values.count - 1])
        links.append(Link(client: client, older: newest[Int(cell)]))
        newest[Int(cell)] = Int32(keys.count - 1)
    }

    /// Adds `counts` to the client cell of `cell` and `client`.
    public mutating func add(_ counts: OutcomeCounts, cell: Int32, client: Int32) {
        modify(cell: cell, client: client) { $0 += counts }
    }
}
