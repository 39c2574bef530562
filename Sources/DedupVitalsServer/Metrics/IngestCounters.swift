import Synchronization

/// Process-lifetime counters of the ingest endpoint (`dedup_ingest_requests_total`, `dedup_ingest_events_total`).
public final class IngestCounters: Sendable {
    /// The `result` label values of `dedup_ingest_events_total`.
    public enum EventResult: String, Sendable, CaseIterable {
        case accepted, rejected, replayed
    }

    private struct Counts {
        var requestsByCode: [Int: Int64] = [:]
        var events: [EventResult: Int64] = [:]
    }

    private let counts = Mutex(Counts())
    /// Refusals by the limits.
    public let limits = LimitCounters()

    public init() {}

    /// Records one answered ingest request and how many of its events ended up with `result`.
    public func record(code: Int, events: Int = 0, result: EventResult? = nil) {
        counts.withLock {
            $0.requestsByCode[code, default: 0] += 1
            if let result { $0.events[result, default: 0] += Int64(events) }
        }
    }

    public var requestsByCode: [Int: Int64] { counts.withLock { $0.requestsByCode } }
    public func events(_ result: EventResult) -> Int64 { counts.withLock { $0.events[result] ?? 0 } }
}
