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
    private let hooks: Hooks

    /// What the service does around each group's transaction, on the writer.
    public struct Hooks: Sendable {
        /// Before the transaction: may add to the merged delta (key-forensics detections, client caps) and returns the
        /// key-forensics changes to persist with it.
        public var prepare: @Sendable (inout BatchDelta) -> KeyForensics.Changes?
        /// After the commit, before the requests resume: apply the group to the in-memory state.
        public var committed: @Sendable (BatchDelta) -> Void
        /// After a failed transaction: undo what `prepare` changed in memory.
        public var failed: @Sendable (KeyForensics.Changes?) -> Void
        /// The admission gate (e.g. the series limit), first of all, with the group's deltas in commit order: a batch
        /// given an error is refused with it and not written; nil admits it.
        public var admit: @Sendable ([BatchDelta]) -> [(any Error)?]
        /// After a committed group's requests have resumed: background upkeep that must run on the writer (key-log
        /// compaction).
        public var maintain: @Sendable () -> Void

        public init(
            prepare: @escaping @Sendable (inout BatchDelta) -> KeyForensics.Changes? = { _ in nil },
            committed: @escaping @Sendable (BatchDelta) -> Void,
            failed: @escaping @Sendable (KeyForensics.Changes?) -> Void = { _ in },
            admit: @escaping @Sendable ([BatchDelta]) -> [(any Error)?] = { _ in [] },
            maintain: @escaping @Sendable () -> Void = {}
        ) {
            self.prepare = prepare
            self.committed = committed
            self.failed = failed
            self.admit = admit
            self.maintain = maintain
        }
    }

    /// - Parameters:
    ///   - clock: milliseconds since the epoch (stamps idempotency records).
    ///   - hooks: what runs on the writer around each transaction.
    public init(store: DedupStore, clock: @escaping @Sendable () -> Int64, hooks: Hooks) {
        self.store = store
        self.clock = clock
        self.hooks = hooks
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

    // MARK: Admission

    /// The batches of `group` that pass the admission gate; the others are answered with their error.
    private func admitted(_ group: [Pending]) -> [Pending] {
        guard !group.isEmpty else { return group }
        let verdicts = hooks.admit(group.map(\.batch.delta))
        guard !verdicts.isEmpty else { return group }
        var passed: [Pending] = []
        for (item, verdict) in zip(group, verdicts) {
            if let verdict { item.continuation.resume(throwing: verdict) } else { passed.append(item) }
        }
        return passed
    }

    private func drain() {
        while true {
            let taken = state.withLock { state -> [Pending] in
                let taken = state.pending
                state.pending.removeAll(keepingCapacity: true)
                if taken.isEmpty { state.draining = false }
                return taken
            }
            let group = admitted(taken)
            if taken.isEmpty { return }
            if group.isEmpty { continue }
            var merged = BatchDelta()
            var records: [IdempotencyRecord] = []
            for item in group {
                merged.merge(item.batch.delta)
                if let record = item.batch.idempotencyRecord { records.append(record) }
            }
            let forensics = hooks.prepare(&merged)
            do {
                try store.write(merged, forensics: forensics, idempotencyRecords: records, createdAtMs: clock())
                hooks.committed(merged)
                for item in group { item.continuation.resume() }
                hooks.maintain()
            } catch {
                hooks.failed(forensics)
                for item in group { item.continuation.resume(throwing: error) }
            }
        }
    }
}
