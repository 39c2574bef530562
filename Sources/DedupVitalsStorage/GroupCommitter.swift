import DedupVitalsCore
import Dispatch
import OrderedCollections
import Synchronization

/// Shares SQLite commits between concurrent ingest requests.
///
/// Each request prepares its own batch on its own thread, in commit order under the preparation lock: the participant's
/// admission gate and preparation (``CommitParticipant``), and joining the *next group*. Then it suspends. A request
/// that finds the lock held leaves its batch to the thread holding it instead of waiting. One
/// writer takes the whole next group, merges its batches, commits it in one transaction, lets the participant apply it to the in-memory
/// state and resumes every request of the group: a 202 is only ever sent for events that are on disk. While the
/// writer commits a group, requests keep preparing the next one, so the CPU work of preparing overlaps the SQLite
/// work, and the group grows with the load (one fsync-free WAL commit serves thousands of requests).
///
/// The next group is prepared on top of the in-memory changes of the group being written. When that group's
/// transaction fails, the next group is failed with it: both are rolled back, newest first, and all their requests
/// get the error.
///
/// Two locks: `preparation` orders the batches' admission and preparation, `state` guards the next group. The writer
/// takes only `state`, so it takes a group without waiting for a batch being prepared (which, with a key on every
/// event, holds `preparation` for hundreds of microseconds; the writer spun on it). What must see no batch half
/// prepared — closing, maintenance between groups, planning a compaction pass, rolling back a failed group — takes
/// both.
///
/// Lock order: `preparation`, then `state`; the participant's locks and the ``KeyLogCompactor``'s are taken inside
/// them, never the other way round.
public final class GroupCommitter: Sendable {
    /// One request's contribution.
    public struct Batch: Sendable {
        public var delta: BatchDelta
        public var idempotencyRecord: IdempotencyRecord?
        /// When the batch entered the write path (``CommitStatistics/now()``), for the durable-latency histogram.
        public var enteredAtNs: UInt64
        public init(delta: BatchDelta, idempotencyRecord: IdempotencyRecord? = nil, enteredAtNs: UInt64 = CommitStatistics.now())
        {
            self.delta = delta
            self.idempotencyRecord = idempotencyRecord
            self.enteredAtNs = enteredAtNs
        }
    }

    /// Prepared batches waiting for one transaction.
    private struct Group {
        var waiters: [CheckedContinuation<Void, any Error>] = []
        /// ``Batch/enteredAtNs`` of each waiter.
        var enteredAtNs: [UInt64] = []
        /// The prepared batches' deltas, merged by the writer (``merged(reservingFor:)``): merging them under the
        /// lock, as each joined, made the request threads wait for each other (at 1,000 series a batch's merge
        /// touches a cell per event; docs/performance.md).
        var deltas: [BatchDelta] = []
        /// Detections of key forensics, per batch that had some.
        var detections: [[BatchDelta.Cell: OutcomeCounts]] = []
        /// Key-forensics changes of each batch, in preparation order.
        var forensics: [KeyForensics.Changes] = []
        var records: [IdempotencyRecord] = []
        var compaction: KeyLogCompactor.Pass?

        /// The batches' deltas and detections as one delta, its dictionaries sized for `size` cells first (the
        /// previous group's: merging then rarely grows them).
        ///
        /// The first batch's delta is the start, copied into storage of that size, and the others are merged into
        /// it: a copy takes its cells without a lookup each, where merging it into an empty delta looked every one
        /// up and inserted it. Groups at 1,000 series hold ~3.4 batches, so that was ~30 % of the merge
        /// (docs/performance.md).
        func merged(reservingFor size: (cells: Int, clientCells: Int)) -> BatchDelta {
            if deltas.count == 1, detections.isEmpty { return deltas[0] }
            var merged = deltas[0]
            merged.reserveCapacity(
                cells: max(size.cells, merged.cells.count), clientCells: max(size.clientCells, merged.clientSlots.count))
            for delta in deltas.dropFirst() { merged.merge(delta) }
            for detections in detections { merged.addDetections(detections) }
            return merged
        }
    }

    private struct State {
        var next = Group()
        var writing = false
        var closed = false
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let store: DedupStore
    private let state = Mutex(State())
    private let preparation = Mutex(())
    /// Batches waiting for the preparation lock (see ``prepare(arriving:planning:)``).
    private let arrivals = Mutex<[Arrival]>([])
    private let writer = DispatchQueue(label: "dedup-vitals.group-commit", qos: .userInitiated)
    private let clock: @Sendable () -> Int64
    private let participant: any CommitParticipant
    private let keyLiveness: (any KeyLiveness)?
    /// `onWriter` work waiting for the writer: the writer yields to it between groups.
    private let maintenanceWaiting = Atomic<Int>(0)
    /// The cells of the last group written (only the writer reads or changes it).
    nonisolated(unsafe) private var lastGroupSize = (cells: 0, clientCells: 0)
    /// Group sizes, commit durations and durable latencies, recorded by the writer.
    public let statistics = CommitStatistics()

    /// - Parameters:
    ///   - clock: milliseconds since the epoch (stamps idempotency records).
    ///   - participant: what runs around each transaction.
    ///   - keyLiveness: for key-log compaction; nil: the log is never compacted.
    public init(
        store: DedupStore, clock: @escaping @Sendable () -> Int64, participant: any CommitParticipant,
        keyLiveness: (any KeyLiveness)?
    ) {
        self.store = store
        self.clock = clock
        self.participant = participant
        self.keyLiveness = keyLiveness
    }

    /// Prepares `batch` into the next group and returns once that group is durable.
    /// Throws the admission gate's error, or ``StorageError/unavailable(reason:)`` when the transaction failed
    /// (nothing of the batch was stored).
    public func commit(_ batch: Batch) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            prepare(arriving: Arrival(batch: batch, continuation: continuation), planning: true)
        }
    }

    /// A batch waiting to be prepared, and its request.
    private struct Arrival: Sendable {
        var batch: Batch
        var continuation: CheckedContinuation<Void, any Error>
    }

    /// Prepares `arriving` (if any) and the batches that arrived before and meanwhile, in arrival order, unless another
    /// thread holds the preparation lock: then `arriving` joins the arrivals, that thread prepares it (it looks at the
    /// arrivals again after releasing the lock), and this one goes back to other work rather than wait. Waiting was a
    /// kernel spin (`rt_mutex_slowlock_block`) for as long as a batch of fresh keys takes to prepare, on one of the two
    /// request threads (docs/performance.md). With `planning`, a compaction pass is planned afterwards when one is due
    /// (not on the writer, which must not read the log).
    private func prepare(arriving: Arrival?, planning: Bool) {
        var arriving = arriving
        repeat {
            var startWriter = false
            var plan = false
            let held: Void? = preparation.withLockIfAvailable { _ in
                func run(_ arrival: Arrival) {
                    switch prepare(arrival) {
                    case .failure(let error):
                        arrival.continuation.resume(throwing: error)
                    case .success(let joined):
                        startWriter = startWriter || joined.startWriter
                        // One pass per group: none is planned while the next group already carries one.
                        plan = plan || !joined.carriesPass
                    }
                }
                if let own = arriving {
                    arriving = nil
                    // Batches that arrived before it go first.
                    for arrival in takeArrivals() { run(arrival) }
                    run(own)
                }
                while case let taken = takeArrivals(), !taken.isEmpty {
                    for arrival in taken { run(arrival) }
                }
            }
            guard held != nil else {
                guard let own = arriving else { return }
                arriving = nil
                arrivals.withLock { $0.append(own) }
                // The holder may have looked at the arrivals for the last time already: try again.
                continue
            }
            if startWriter { writer.async { self.writeNext() } }
            if planning, plan { planKeyLogCompaction() }
        } while !arrivals.withLock({ $0.isEmpty })
    }

    /// The batches waiting for the preparation lock, taken out.
    private func takeArrivals() -> [Arrival] {
        arrivals.withLock { arrivals in
            defer { arrivals = [] }
            return arrivals
        }
    }

    /// Admits and prepares one batch into the next group, under the preparation lock.
    private func prepare(_ arrival: Arrival) -> Result<(startWriter: Bool, carriesPass: Bool), any Error> {
        // `closed` changes only under both locks: it cannot change before this batch joins.
        guard !state.withLock({ $0.closed }) else {
            return .failure(StorageError.unavailable(reason: "the service is shutting down"))
        }
        let batch = arrival.batch
        do { try participant.admit(batch.delta) } catch { return .failure(error) }
        var delta = batch.delta
        let changes = participant.prepare(&delta)
        return state.withLock { state in
            state.next.deltas.append(delta)
            if let changes {
                // Kept apart: the batch's delta may still share its storage with the caller's, and adding to
                // it would copy it.
                if !changes.detections.isEmpty { state.next.detections.append(changes.detections) }
                state.next.forensics.append(changes)
            }
            if let record = batch.idempotencyRecord { state.next.records.append(record) }
            state.next.waiters.append(arrival.continuation)
            state.next.enteredAtNs.append(batch.enteredAtNs)
            let startWriter = !state.writing
            state.writing = true
            return .success((startWriter, state.next.compaction != nil))
        }
    }

    /// Plans a key-log compaction pass on this request's thread, off the writer, and attaches it to the group being
    /// prepared (the only group it is valid for: see ``KeyLogCompactor``).
    private func planKeyLogCompaction() {
        guard let keyLiveness else { return }
        store.compactor.runPass(liveness: keyLiveness) { plan in
            bothLocks { state in
                guard !state.closed, state.next.compaction == nil, let pass = plan() else { return false }
                state.next.compaction = pass
                return true
            }
        }
    }

    /// Runs `body` with no batch being prepared and the next group held. Batches that arrived meanwhile are prepared
    /// once the lock is released (see ``prepare(arriving:planning:)``): here, on whatever thread released it.
    private func bothLocks<T>(_ body: (inout State) throws -> T) rethrows -> T {
        defer { if !arrivals.withLock({ $0.isEmpty }) { prepare(arriving: nil, planning: false) } }
        return try preparation.withLock { _ in try state.withLock { state in try body(&state) } }
    }
    /// Runs `body` between groups, with no batch being prepared meanwhile (for maintenance such as pruning).
    public func onWriter<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            maintenanceWaiting.add(1, ordering: .relaxed)
            writer.async {
                self.maintenanceWaiting.subtract(1, ordering: .relaxed)
                let result = self.bothLocks { _ in Result { try body() } }
                continuation.resume(with: result)
            }
        }
    }

    /// Refuses new batches and waits until every accepted one is committed or failed.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = bothLocks { state -> Bool in
                state.closed = true
                if state.writing { state.closeWaiters.append(continuation) }
                return !state.writing
            }
            if idle { continuation.resume() }
        }
    }

    // MARK: Writer

    /// Writes groups until nothing is left. Between groups it stays on its thread (no hop back through the queue)
    /// unless ``onWriter(_:)`` work is waiting, which then runs first.
    private func writeNext() {
        while writeOneGroup() {
            if maintenanceWaiting.load(ordering: .relaxed) > 0 {
                writer.async { self.writeNext() }
                return
            }
        }
    }

    /// Writes the next group; false when there was none (the writer is then idle).
    private func writeOneGroup() -> Bool {
        enum Next {
            case write(Group)
            /// Nothing to write: the writer goes idle, and whoever waits in ``close()`` may go on.
            case idle(closeWaiters: [CheckedContinuation<Void, Never>])
        }
        let next = state.withLock { state -> Next in
            guard !state.next.waiters.isEmpty else {
                state.writing = false
                defer { state.closeWaiters.removeAll() }
                return .idle(closeWaiters: state.closeWaiters)
            }
            let group = state.next
            state.next = Group()
            return .write(group)
        }
        let group: Group
        switch next {
        case .idle(let closeWaiters):
            for waiter in closeWaiters { waiter.resume() }
            return false
        case .write(let taken):
            group = taken
        }
        let startNs = CommitStatistics.now()
        let merged = group.merged(reservingFor: lastGroupSize)
        lastGroupSize = (merged.cells.count, merged.clientSlots.count)
        do {
            try store.write(
                merged, forensics: group.forensics, compaction: group.compaction,
                idempotencyRecords: group.records, createdAtMs: clock())
            participant.committed(merged, changes: group.forensics)
            let endNs = CommitStatistics.now()
            for waiter in group.waiters { waiter.resume() }
            statistics.recordGroup(startNs: startNs, endNs: endNs, enteredNs: group.enteredAtNs)
        } catch {
            // The next group was prepared on top of this one: it fails too. Rolled back under the lock, newest first,
            // so that nothing is prepared on a half-undone state.
            let onTop = bothLocks { state -> Group in
                let onTop = state.next
                state.next = Group()
                if !onTop.waiters.isEmpty {
                    participant.failed(onTop.merged(reservingFor: (0, 0)), changes: onTop.forensics.reversed())
                }
                participant.failed(merged, changes: group.forensics.reversed())
                store.compactor.abandon()
                return onTop
            }
            for waiter in onTop.waiters + group.waiters { waiter.resume(throwing: error) }
        }
        return true
    }
}
