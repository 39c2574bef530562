import Logging
import Synchronization

/// Errors the service handles without failing a request: each is logged with its context and counted in
/// `dedup_internal_errors_total`, so that an operator can alert on them instead of finding them in a log.
public final class InternalErrors: Sendable {
    /// Where an error was handled (the `operation` label).
    public enum Operation: String, Sendable, CaseIterable {
        /// Loading the alert rule files at start (the service then runs without those rules).
        case ruleLoad = "rule_load"
        /// Loading other parts of the configuration (TLS material) when the caller did not load them first.
        case configLoad = "config_load"
        /// Encoding a notification body.
        case webhookEncode = "webhook_encode"
        /// Reading the webhook outbox's queue depth.
        case outboxDepth = "outbox_depth"
        /// Disabling the pending deliveries of a receiver that answered 410 Gone.
        case outboxDisable = "outbox_disable"
        /// Deleting finished outbox messages.
        case outboxPrune = "outbox_prune"
        /// The final WAL checkpoint and close of the database at shutdown.
        case databaseClose = "database_close"
        /// Folding the aggregate log into the aggregate tables (retried at the next fold; the log keeps the data), or
        /// a log row that could not be decoded.
        case aggregateFold = "aggregate_fold"
        /// Key-log rows that could not be read to their end at start (their remaining keys not restored).
        case keyLogReplay = "key_log_replay"
    }

    private let counts = Mutex([Operation: Int64]())

    public init() {}

    /// Logs `error` at error level with `metadata` and counts it.
    public func record(
        _ operation: Operation, _ message: Logger.Message, error: any Error, logger: Logger, metadata: Logger.Metadata = [:]
    ) {
        counts.withLock { $0[operation, default: 0] += 1 }
        logger.error(message, metadata: metadata.merging(["error": "\(error)", "operation": "\(operation.rawValue)"]) { $1 })
    }

    public func count(_ operation: Operation) -> Int64 { counts.withLock { $0[operation] ?? 0 } }

    /// Writes `dedup_internal_errors_total`, one sample per operation.
    func write(to writer: inout some MetricsSink) {
        let counts = counts.withLock { $0 }
        writer.family(MetricsCatalog.internalErrors)
        for operation in Operation.allCases {
            writer.sample(MetricsCatalog.internalErrors, [operation.rawValue], counts[operation] ?? 0)
        }
    }
}
