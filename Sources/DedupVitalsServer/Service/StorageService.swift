import DedupVitalsCore
import DedupVitalsStorage
import Logging
import ServiceLifecycle

/// Runs storage maintenance (pruning) while the service runs, and on graceful shutdown — after the HTTP server has
/// finished its in-flight requests — commits what is pending and closes the database.
struct StorageService: Service {
    let store: DedupStore
    let committer: GroupCommitter
    let state: LiveState
    /// Retention and the idempotency-key TTL are read at every pass (a reload may change them).
    let live: LiveConfiguration
    let clock: @Sendable () -> Int64
    let logger: Logger
    var pruneInterval: Duration = .seconds(60)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await prune()
                try? await Task.sleep(for: pruneInterval)
            }
        }
        await committer.close()
        do {
            try store.close()
            logger.info("database closed", metadata: ["path": "\(store.path)"])
        } catch {
            state.errors.record(
                .databaseClose, "database not closed cleanly", error: error, logger: logger, metadata: ["path": "\(store.path)"])
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
