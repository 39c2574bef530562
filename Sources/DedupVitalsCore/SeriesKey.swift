/// Identifies one series: a (service, operation) pair.
public struct SeriesKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var service: String
    public var operation: String

    public init(service: String, operation: String) {
        self.service = service
        self.operation = operation
    }

    public static func < (lhs: SeriesKey, rhs: SeriesKey) -> Bool {
        (lhs.service, lhs.operation) < (rhs.service, rhs.operation)
    }

    public var description: String { "\(service)/\(operation)" }
}
