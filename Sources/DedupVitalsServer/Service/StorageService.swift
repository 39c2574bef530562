import DedupVitalsCore
import DedupVitalsStorage
import Dispatch
import Logging
import ServiceLifecycle

/// Runs storage maintenance while the service runs — folding the aggregate log every `foldInterval`, pruning every
/// `pruneInterval` (then returning the allocator's free memory, ``AllocatorTrim``) — and on graceful shutdown, after the HTTP server has finished its in-flight requests, commits what
/// is pending, folds it and closes the database.
struct StorageService: Service {
    let store: DedupStore
    let committer: GroupCommitter
    let state: LiveState
    /// Retention and the idempotency-key TTL are read at every pass (a reload may change them).
    let live: LiveConfiguration
    let clock: @Sendable () -> Int64
    let logger: Logger
    var pruneInterval: Duration = .seconds(60)
    private let foldQueue = DispatchQueue(label: "dedup-vitals.fold")

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    while !Task.isCancelled {
                        await prune()
                        await offThePool { AllocatorTrim.run() }
                        try? await Task.sleep(for: pruneInterval)
                    }
                }
                group.addTask {
                    while !Task.isCancelled {
                        // `fold_interval`, read at every pass (a reload may change it).
                        try? await Task.sleep(for: .milliseconds(live.config.foldInterval.milliseconds))
                        await foldOffThePool()
                    }
                }
            }
        }
        await committer.close()
        await foldOffThePool()
        do {
            try store.close()
            logger.info("database closed", metadata: ["path": "\(store.path)"])
        } catch {
            state.errors.record(
                .databaseClose, "database not closed cleanly", error: error, logger: logger, metadata: ["path": "\(store.path)"])
        }
    }

    /// Folds on a thread of its own: a fold waits for SQLite's writer and then writes for a while, which would hold a
    /// thread of Swift's cooperative pool (one per core) that requests need.
    private func foldOffThePool() async {
        await offThePool { fold() }
    }

    /// Runs blocking maintenance work on the maintenance thread.
    private func offThePool(_ work: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            foldQueue.async {
                work()
                continuation.resume()
            }
        }
    }

    /// Folds the aggregate log. A failure leaves the rows in the log for the next fold.
    func fold() {
        do {
            let result = try store.foldAggregates()
            if result.malformedRows > 0 {
                state.errors.record(
                    .aggregateFold, "aggregate log rows could not be decoded and were dropped",
                    error: StorageError.unavailable(reason: "\(result.malformedRows) malformed rows"), logger: logger)
            }
        } catch {
            state.errors.record(.aggregateFold, "folding the aggregate log failed; will retry", error: error, logger: logger)
        }
    }

    /// Drops buckets and series past the retention, on disk (through the writer) and in memory.
    func prune() async {
        let nowMs = clock()
        let config = live.config
        let retentionMs = config.retention.milliseconds
        do {
            try await committer.onWriter { [store, config, state] in
                try store.prune(
                    nowMs: nowMs, retentionMs: retentionMs, idempotencyTTLMs: config.idempotencyKeyTTL.milliseconds,
                    bucketWidthMs: BucketClock.defaultWidthMs,
                    removedKeys: state.keysOfExpiringSeries(nowMs: nowMs, retentionMs: retentionMs))
                state.prune(nowMs: nowMs, retentionMs: retentionMs)
            }
        } catch {
            logger.warning("pruning failed; will retry", metadata: ["error": "\(error)"])
        }
    }
}
