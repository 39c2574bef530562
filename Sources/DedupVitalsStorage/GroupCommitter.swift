import DedupVitalsCore
import Dispatch
import Synchronization

/// Shares SQLite commits between concurrent ingest requests.
///
/// Each request submits its batch and suspends. One writer drains everything pending into a single transaction,
/// applies the committed delta to the in-memory state, and then resumes every request of the group: a 202 is only
/// ever sent for events that are on disk. While a transaction runs, new batches queue up for the next one, so the
/// commit rate adapts to the load (one fsync-free WAL commit serves thousands of requests).
public final class GroupCommitter: Sendable {
    /// One request's contribution.
    public struct Batch: Sendable {
        public var delta: BatchDelta
        public var idempotencyRecord: IdempotencyRecord?
        public init(delta: BatchDelta, idempotencyRecord: IdempotencyRecord? = nil) {
            self.delta = delta
            self.idempotencyRecord = idempotencyRecord
        }
    }

    private struct Pending {
        var batch: Batch
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var pending: [Pending] = []
        var draining = false
        var closed = false
    }

    private let store: DedupStore
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "dedup-vitals.group-commit", qos: .userInitiated)
    private let clock: @Sendable () -> Int64
    private let onCommit: @Sendable (BatchDelta) -> Void

    /// - Parameters:
    ///   - clock: milliseconds since the epoch (stamps idempotency records).
    ///   - onCommit: called on the writer with the merged delta of each committed group, before requests resume.
    public init(store: DedupStore, clock: @escaping @Sendable () -> Int64, onCommit: @escaping @Sendable (BatchDelta) -> Void) {
        self.store = store
        self.clock = clock
        self.onCommit = onCommit
    }

    /// Commits `batch` together with whatever else is pending; returns once it is durable.
    /// Throws ``StorageError/unavailable(reason:)`` when the transaction failed (nothing of the batch was stored).
    public func commit(_ batch: Batch) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let startDrain = state.withLock { state -> Bool in
                guard !state.closed else { return false }
                state.pending.append(Pending(batch: batch, continuation: continuation))
                if state.draining { return false }
                state.draining = true
                return true
            }
            if startDrain {
                queue.async { self.drain() }
            } else if state.withLock({ $0.closed }) {
                continuation.resume(throwing: StorageError.unavailable(reason: "the service is shutting down"))
            }
        }
    }

    /// Runs `body` on the writer, between groups (for maintenance such as pruning).
    public func onWriter<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Refuses new batches and waits until every accepted one is committed or failed.
    public func close() async {
        state.withLock { $0.closed = true }
        await withCheckedContinuation { continuation in queue.async { continuation.resume() } }
    }

    private func drain() {
        while true {
            let group = state.withLock { state -> [Pending] in
                let taken = state.pending
                state.pending.removeAll(keepingCapacity: true)
                if taken.isEmpty { state.draining = false }
                return taken
            }
            if group.isEmpty { return }
            var merged = BatchDelta()
            var records: [IdempotencyRecord] = []
            for item in group {
                merged.merge(item.batch.delta)
                if let record = item.batch.idempotencyRecord { records.append(record) }
            }
            do {
                try store.write(merged, idempotencyRecords: records, createdAtMs: clock())
                onCommit(merged)
                for item in group { item.continuation.resume() }
            } catch {
                for item in group { item.continuation.resume(throwing: error) }
            }
        }
    }
}
