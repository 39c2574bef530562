import DedupVitalsCore
import Synchronization

/// The in-memory view of alerting that the read endpoints serve: current instances, delivery counters, queue depth.
public final class AlertingState: Sendable {
    /// The `result` label values of `dedup_webhook_deliveries_total`.
    public enum DeliveryResult: String, Sendable, CaseIterable {
        case success, retry, failed
    }

    private struct Contents {
        var instances: [AlertInstance] = []
        var deliveries: [String: [DeliveryResult: Int64]] = [:]
        var queueDepth: [String: Int] = [:]
        var deliveryDurations: [String: BucketHistogram] = [:]
        var externalURL: String
        var receivers: [String]
    }

    private let contents: Mutex<Contents>
    /// Receiver names in configuration order (their series exist even before the first delivery); a reload
    /// replaces them.
    public var receivers: [String] {
        get { contents.withLock { $0.receivers } }
        set { contents.withLock { $0.receivers = newValue } }
    }

    public init(receivers: [String], externalURL: String) {
        contents = Mutex(Contents(externalURL: externalURL, receivers: receivers))
    }

    /// Pending, firing and recently resolved instances, sorted by key.
    public var instances: [AlertInstance] { contents.withLock { $0.instances } }
    public func publish(_ instances: [AlertInstance]) { contents.withLock { $0.instances = instances } }

    public func recordDelivery(receiver: String, result: DeliveryResult) {
        contents.withLock { $0.deliveries[receiver, default: [:]][result, default: 0] += 1 }
    }

    /// Bounds of `dedup_webhook_delivery_duration_seconds`: the Prometheus client defaults.
    static let deliveryDurationBounds = BucketHistogram.defaultSecondsBounds

    /// One delivery attempt took `seconds` (answer or connection error).
    func recordDeliveryDuration(receiver: String, seconds: Double) {
        contents.withLock {
            $0.deliveryDurations[receiver, default: BucketHistogram(bounds: Self.deliveryDurationBounds)].observe(seconds)
        }
    }

    var deliveryDurations: [String: BucketHistogram] { contents.withLock { $0.deliveryDurations } }

    public func deliveries(receiver: String, result: DeliveryResult) -> Int64 {
        contents.withLock { $0.deliveries[receiver]?[result] ?? 0 }
    }

    public func setQueueDepth(_ depth: [String: Int]) { contents.withLock { $0.queueDepth = depth } }
    public func queueDepth(receiver: String) -> Int { contents.withLock { $0.queueDepth[receiver] ?? 0 } }

    /// The base URL of this service as receivers should see it (`externalURL`, `generatorURL`).
    public var externalURL: String {
        get { contents.withLock { $0.externalURL } }
        set { contents.withLock { $0.externalURL = newValue } }
    }
}
