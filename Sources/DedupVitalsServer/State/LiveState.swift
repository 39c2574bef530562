import DedupVitalsCore
import DedupVitalsStorage
import OrderedCollections
import Synchronization

/// The in-memory state the read endpoints serve from: rolling windows, key forensics and caller attribution (each
/// changed by the writer after a commit) and process counters.
public final class LiveState: Sendable {
    private let windows: Mutex<RollingWindows>
    private let forensics: Mutex<KeyForensics>
    private let clients: Mutex<ClientAttribution>
    private let staleCache = Mutex<(atMs: Int64, counts: [SeriesKey: Int])?>(nil)
    /// The last key-forensics call (``KeyForensics/Changes/call``) whose group is settled: what pruning tells the key
    /// forensics, so that a removed series' index is reused only once no unsettled group names it. Written and read
    /// on the writer.
    private let settledForensicsCall = Atomic<UInt64>(0)
    /// The tracked keys' count and oldest label (``KeyTable/oldestLabel``) as of the last change to the key forensics,
    /// published after each so that planning a key-log compaction, after every batch, reads them without the lock:
    /// taking it waited for the next batch's detectors, in a kernel spin and then asleep (2 % of the service's samples
    /// with a fresh key on every event, docs/performance.md). A value read late is one the forensics had: the label
    /// never decreases, and the count only steers when a pass is due.
    private let publishedKeyCount = Atomic<Int>(0)
    private let publishedOldestLabel = Atomic<Int>(0)
    public let counters = IngestCounters()
    /// Errors handled without failing a request (logged and counted).
    public let errors = InternalErrors()
    /// How far back the in-memory buckets reach: the longest window anything reads (the database keeps `retention`).
    public let bucketHorizonMs: Int64

    public init(_ loaded: DedupStore.LoadedState, bucketHorizonMs: Int64) {
        self.bucketHorizonMs = bucketHorizonMs
        windows = Mutex(loaded.windows)
        forensics = Mutex(loaded.forensics)
        clients = Mutex(loaded.clients)
        publish(loaded.forensics)
    }

    /// Publishes what ``trackedKeys`` reads; called under the forensics lock after each change.
    private func publish(_ forensics: borrowing KeyForensics) {
        publishedKeyCount.store(forensics.keyCount, ordering: .relaxed)
        publishedOldestLabel.store(forensics.table.oldestLabel, ordering: .relaxed)
    }

    /// The tracked keys' count and oldest label as of the last change, read without the forensics lock.
    var trackedKeys: (count: Int, oldestLabel: Int) {
        (publishedKeyCount.load(ordering: .relaxed), publishedOldestLabel.load(ordering: .relaxed))
    }

    // MARK: Write path (see IngestPipeline)

    /// Runs the key-forensics detectors over a batch's keyed events (in commit order, under the group committer's
    /// lock; the groups before may not be applied yet).
    func runForensics(_ events: [ForensicEvent]) -> KeyForensics.Changes {
        let bucketWidth = windows.withLock { $0.bucketWidthMs }
        return forensics.withLock { forensics in
            defer { publish(forensics) }
            return forensics.process(events, bucketWidthMs: bucketWidth)
        }
    }

    /// Applies a committed group to the windows and the client attribution.
    func apply(_ group: BatchDelta) {
        windows.withLock { $0.apply(group) }
        if group.hasForensicEvents { staleCache.withLock { $0 = nil } }
        if !group.clientSlots.isEmpty {
            clients.withLock { $0.apply(group) }
        }
    }

    /// Undoes the key-forensics changes of a group whose transaction failed (given newest first).
    func rollback(_ changes: [KeyForensics.Changes]) {
        forensics.withLock { forensics in
            for batch in changes { forensics.rollback(batch) }
            publish(forensics)
        }
    }

    /// Notes that the groups of these key-forensics changes are settled: committed, or rolled back.
    func settled(_ changes: [KeyForensics.Changes]) {
        guard let last = changes.lazy.map(\.call).max() else { return }
        if last > settledForensicsCall.load(ordering: .relaxed) { settledForensicsCall.store(last, ordering: .relaxed) }
    }

    // MARK: Reading

    /// Reads the windows under the lock; keep `body` short.
    public func withWindows<T, E: Error>(_ body: (borrowing RollingWindows) throws(E) -> T) throws(E) -> T {
        try windows.withLock { (windows) throws(E) -> T in try body(windows) }
    }

    /// Reads the key forensics under the lock; keep `body` short (it blocks the writer).
    public func withForensics<T>(_ body: (borrowing KeyForensics) throws -> T) rethrows -> T {
        try forensics.withLock { try body($0) }
    }

    public func withClients<T, E: Error>(_ body: (borrowing ClientAttribution) throws(E) -> T) throws(E) -> T {
        try clients.withLock { (clients) throws(E) -> T in try body(clients) }
    }

    /// Stale in-flight keys per series. The count scans every tracked key, so it is cached
    /// for up to a second (until the next commit with keys).
    public func staleInFlightKeys(nowMs: Int64) -> [SeriesKey: Int] {
        if let cached = staleCache.withLock({ $0 }), nowMs - cached.atMs < 1000, nowMs >= cached.atMs { return cached.counts }
        let counts = forensics.withLock { $0.staleInFlightKeys(nowMs: nowMs) }
        staleCache.withLock { $0 = (nowMs, counts) }
        return counts
    }

    // MARK: Maintenance

    /// The keys of the series that ``prune(nowMs:retentionMs:)`` will drop (their removal is logged on disk first).
    func keysOfExpiringSeries(nowMs: Int64, retentionMs: Int64) -> [KeyHash] {
        let expiring = windows.withLock { $0.idleSeries(before: nowMs - retentionMs) }
        guard !expiring.isEmpty else { return [] }
        return forensics.withLock { $0.keys(of: Set(expiring)) }
    }

    /// Drops expired buckets, series, keys and clients (on the writer, in step with the database).
    func prune(nowMs: Int64, retentionMs: Int64) {
        let dropped = windows.withLock { $0.prune(nowMs: nowMs, retentionMs: retentionMs, bucketHorizonMs: bucketHorizonMs) }
        let bucketWidth = windows.withLock { $0.bucketWidthMs }
        forensics.withLock {
            $0.removeSeries(Set(dropped), settledThrough: settledForensicsCall.load(ordering: .relaxed))
            _ = $0.expire(nowMs: nowMs)
            publish($0)
        }
        clients.withLock { $0.prune(nowMs: nowMs, retentionMs: min(retentionMs, bucketHorizonMs), bucketWidthMs: bucketWidth) }
        staleCache.withLock { $0 = nil }
    }
}
