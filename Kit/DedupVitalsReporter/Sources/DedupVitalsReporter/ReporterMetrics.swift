import Metrics

/// The reporter's own swift-metrics: what it sent, retried, dropped and holds. Handles are made once; `record`
/// touches only `dropped` counters, and only when it drops.
struct ReporterMetrics: Sendable {
    static let dropReasons = ["buffer_full", "invalid", "rejected", "expired", "shutdown"]

    let eventsSent: Counter
    let eventsDropped: [String: Counter]
    let batchesSent: Counter
    let batchesRetried: Counter
    let batchesFailed: Counter
    let bufferDepth: Gauge

    init(prefix: String, factory: any MetricsFactory) {
        eventsSent = Counter(label: "\(prefix)_events_sent_total", factory: factory)
        eventsDropped = Dictionary(uniqueKeysWithValues: Self.dropReasons.map { reason in
            (reason, Counter(label: "\(prefix)_events_dropped_total", dimensions: [("reason", reason)], factory: factory))
        })
        batchesSent = Counter(label: "\(prefix)_batches_total", dimensions: [("result", "sent")], factory: factory)
        batchesRetried = Counter(label: "\(prefix)_batches_total", dimensions: [("result", "retried")], factory: factory)
        batchesFailed = Counter(label: "\(prefix)_batches_total", dimensions: [("result", "failed")], factory: factory)
        bufferDepth = Gauge(label: "\(prefix)_buffer_depth", factory: factory)
    }

    func dropped(_ count: Int, reason: String) {
        guard count > 0 else { return }
        eventsDropped[reason]?.increment(by: Int64(count))
    }
}
