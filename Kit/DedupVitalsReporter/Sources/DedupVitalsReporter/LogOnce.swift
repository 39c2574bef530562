import Synchronization

/// Remembers which problems were logged, so that a condition that repeats (a rejected batch, a full buffer, an
/// invalid field) costs one log line, not one per event.
final class LogOnce: Sendable {
    private let seen = Mutex(Set<String>())

    /// True the first time `topic` is passed.
    func first(_ topic: String) -> Bool {
        seen.withLock { $0.insert(topic).inserted }
    }
}
