import Synchronization

/// A shared number of requests that all connections draw from (for runs bounded by a request count).
final class RequestBudget: Sendable {
    private let remaining: Atomic<Int>

    init(_ requests: Int) {
        remaining = Atomic(requests)
    }

    /// Takes one request from the budget; false once it is spent.
    func take() -> Bool {
        remaining.subtract(1, ordering: .relaxed).newValue >= 0
    }
}
