/// The names of a series, without the hash a ``SeriesKey`` computes when it is made: what a series' keys are hashed
/// with (``KeyBytesHashing``). The decoder hashes a body's keys before any dictionary needs their series, and making a
/// ``SeriesKey`` per key only to read its names back hashed both names once more per keyed event
/// (docs/performance.md).
public struct SeriesNames: Sendable {
    public let service: String
    public let operation: String

    public init(service: String, operation: String) {
        self.service = service
        self.operation = operation
    }
}
