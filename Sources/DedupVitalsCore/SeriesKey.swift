/// Identifies one series: a (service, operation) pair.
///
/// The hash of the two strings is computed once, when the key is made: a key is hashed many times on the write path
/// (its batch's cells, the group's merge, the windows, the client buckets, the storage's ids), and hashing two strings
/// each time was ~14 % of the service's CPU at 1,000 series (docs/performance.md). Dictionaries skip SipHash for it
/// too (``HashMixing``).
public struct SeriesKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let service: String
    public let operation: String
    /// The hash of the two strings, computed at ``init(service:operation:)``.
    let storedHash: Int

    public init(service: String, operation: String) {
        self.service = service
        self.operation = operation
        var hasher = Hasher()
        hasher.combine(service)
        hasher.combine(operation)
        storedHash = hasher.finalize()
    }

    public static func == (lhs: SeriesKey, rhs: SeriesKey) -> Bool {
        lhs.storedHash == rhs.storedHash && lhs.service == rhs.service && lhs.operation == rhs.operation
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(storedHash)
    }

    /// What dictionaries call: the stored hash mixed with the table's seed, without SipHash (see ``HashMixing``).
    public func _rawHashValue(seed: Int) -> Int {
        HashMixing.mix(storedHash, 0, seed: seed)
    }

    public static func < (lhs: SeriesKey, rhs: SeriesKey) -> Bool {
        (lhs.service, lhs.operation) < (rhs.service, rhs.operation)
    }

    public var description: String { "\(service)/\(operation)" }

    /// Its names, to hash keys with (``SeriesNames``).
    public var names: SeriesNames { SeriesNames(service: service, operation: operation) }
}
