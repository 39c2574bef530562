import Synchronization

/// Tracks ingest `Idempotency-Key`s whose first request is still being processed (answered 409 to a concurrent retry).
final class IdempotencyGuard: Sendable {
    private struct Entry: Hashable {
        var scope: String
        var key: String
    }

    private let active = Mutex(Set<Entry>())

    /// Claims the key; false when another request holds it.
    func claim(scope: String, key: String) -> Bool {
        active.withLock { $0.insert(Entry(scope: scope, key: key)).inserted }
    }

    func release(scope: String, key: String) {
        _ = active.withLock { $0.remove(Entry(scope: scope, key: key)) }
    }
}
