import Synchronization

/// Process-lifetime counters of the ingest endpoints (`dedup_ingest_requests_total`, `dedup_ingest_events_total`,
/// `dedup_otlp_ignored_log_records_total`).
public final class IngestCounters: Sendable {
    /// The `result` label values of `dedup_ingest_events_total`.
    public enum EventResult: String, Sendable, CaseIterable {
        case accepted, rejected, replayed
    }

    private struct Counts {
        var requestsByCode: [Int: Int64] = [:]
        var events: [EventResult: Int64] = [:]
        var ignoredLogRecords: Int64 = 0
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

    /// Records events of a request already counted (the records an OTLP request rejected in `partial_success`).
    public func recordEvents(_ events: Int, result: EventResult) {
        guard events > 0 else { return }
        counts.withLock { $0.events[result, default: 0] += Int64(events) }
    }

    /// Records OTLP log records that are not decisions (`dedup_otlp_ignored_log_records_total`).
    public func recordIgnoredLogRecords(_ records: Int) {
        guard records > 0 else { return }
        counts.withLock { $0.ignoredLogRecords += Int64(records) }
    }

    public var ignoredLogRecords: Int64 { counts.withLock { $0.ignoredLogRecords } }
    public var requestsByCode: [Int: Int64] { counts.withLock { $0.requestsByCode } }
    public func events(_ result: EventResult) -> Int64 { counts.withLock { $0.events[result] ?? 0 } }
}
