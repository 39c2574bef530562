/// Counts of a reporter since it was created: the same numbers it reports through swift-metrics, readable without
/// a metrics backend.
public struct ReporterStatistics: Sendable, Equatable {
    /// Valid events accepted into the buffer.
    public var recorded = 0
    /// Events the service acknowledged (202).
    public var sent = 0
    /// Events lost, by reason: `buffer_full`, `invalid`, `rejected` (a 4xx other than 408/429), `expired`,
    /// `shutdown`.
    public var dropped: [String: Int] = [:]
    /// Batches acknowledged by the service.
    public var batchesSent = 0
    /// Delivery attempts that were retried (connection errors, timeouts, 408, 409, 429, 5xx).
    public var batchesRetried = 0
    /// Batches given up (rejected, expired or cut by shutdown).
    public var batchesFailed = 0
    /// Events waiting in the buffer now (the batch being delivered not included).
    public var bufferDepth = 0

    /// Every event lost, whatever the reason.
    public var droppedTotal: Int { dropped.values.reduce(0, +) }
}
