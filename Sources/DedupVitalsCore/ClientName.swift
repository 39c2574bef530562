/// A caller's name (an event's `client`) with the hash of its string, computed once.
///
/// Client cells are hashed at every step of the write path (the batch's cells, the group's merge, the client cap,
/// the aggregate log's name table, the live client buckets), and Swift's dictionaries run SipHash over a `String` on
/// every lookup: at 1,000 series and 7 callers that was the largest single cost of keyless ingest
/// (docs/performance.md). The name is hashed with `Hasher` (seeded per process, so callers cannot choose colliding
/// names) when the cell is made, and dictionaries mix the stored hash (``HashMixing``).
public struct ClientName: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let name: String
    let storedHash: Int

    public init(_ name: String) {
        self.name = name
        var hasher = Hasher()
        hasher.combine(name)
        storedHash = hasher.finalize()
    }

    public static func == (lhs: ClientName, rhs: ClientName) -> Bool {
        lhs.storedHash == rhs.storedHash && lhs.name == rhs.name
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(storedHash)
    }

    /// The stored hash mixed with the table's seed, without SipHash (see ``HashMixing``).
    public func _rawHashValue(seed: Int) -> Int {
        HashMixing.mix(storedHash, 0, seed: seed)
    }

    public static func < (lhs: ClientName, rhs: ClientName) -> Bool { lhs.name < rhs.name }

    public var description: String { name }
}
