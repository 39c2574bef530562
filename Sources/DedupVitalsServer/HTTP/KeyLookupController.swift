import DedupVitalsCore
import Foundation
import Hummingbird

/// `GET /v1/keys/lookup?service=&operation=&key=`: the timeline of one idempotency key. The key is hashed
/// server-side like ingested keys; it is never stored, logged or echoed.
struct KeyLookupController: Sendable {
    let hasher: KeyHasher
    let state: LiveState
    let config: ServiceConfig
    let clock: @Sendable () -> Int64

    struct Timeline: Encodable {
        var service: String
        var operation: String
        var state: String
        var firstSeen: String
        var firstMiss: String?
        var lastMiss: String?
        var completed: String?
        var lastSeen: String
        var counts: [String: UInt32]
        var executions: UInt32
        var payloadVariants: Int
        var dedupWindowSeconds: Double
        var traces: Traces?

        /// The W3C ids of one decision's trace.
        struct Trace: Encodable {
            var traceID: String
            var spanID: String?

            init(_ trace: TraceContext) {
                traceID = trace.traceIDHex
                spanID = trace.spanIDHex
            }

            enum CodingKeys: String, CodingKey {
                case traceID = "trace_id"
                case spanID = "span_id"
            }
        }

        /// The traces of the misses that matter: the first, the latest detected repeat (double execution or late
        /// retry), and the one holding an open lock.
        struct Traces: Encodable {
            var firstMiss: Trace?
            var doubleExecution: Trace?
            var lateRetry: Trace?
            var lock: Trace?

            init?(_ traces: KeyTraces?, open: Bool) {
                guard let traces else { return nil }
                firstMiss = traces.firstMiss.map(Trace.init)
                let repeated = traces.repeatMiss.map(Trace.init)
                if traces.repeatDetection == .lateRetry { lateRetry = repeated } else { doubleExecution = repeated }
                lock = open ? traces.lockHolder.map(Trace.init) : nil
            }

            enum CodingKeys: String, CodingKey {
                case firstMiss = "first_miss"
                case doubleExecution = "double_execution"
                case lateRetry = "late_retry"
                case lock
            }
        }

        enum CodingKeys: String, CodingKey {
            case service, operation, state
            case firstSeen = "first_seen"
            case firstMiss = "first_miss"
            case lastMiss = "last_miss"
            case completed
            case lastSeen = "last_seen"
            case counts, executions
            case payloadVariants = "payload_variants"
            case dedupWindowSeconds = "dedup_window_seconds"
            case traces
        }
    }

    func addRoutes(to router: Router<DedupRequestContext>) {
        router.get("/v1/keys/lookup") { request, _ in
            try lookup(request.uri.queryParameters)
        }
    }

    func lookup(_ query: Parameters) throws -> Response {
        func name(_ field: String) throws -> String {
            guard let value = query[Substring(field)].map(String.init), EventRules.isValidName(value) else {
                throw APIError(
                    .badRequest, code: "invalid_parameter", message: "\(field) must match [A-Za-z_][A-Za-z0-9_.-]{0,63}",
                    field: field)
            }
            return value
        }
        let series = SeriesKey(service: try name("service"), operation: try name("operation"))
        guard let key = query["key"].map(String.init), EventRules.keyLengthRange.contains(key.utf8.count) else {
            throw APIError(.badRequest, code: "invalid_parameter", message: "key must be 1 to 255 bytes", field: "key")
        }
        let hash = hasher.hashKey(key, series: series)
        guard let record = state.withForensics({ $0.record(for: hash) }) else {
            throw APIError(
                .notFound, code: "key_not_found", message: "no record of this key for \(series) (never seen, or expired)")
        }
        let nowMs = clock()
        let stale = record.open && nowMs - record.lastMissMs > config.staleInFlightAfter.milliseconds
        let stateName = record.open ? (stale ? "stale_in_flight" : "in_flight") : (record.completed > 0 ? "completed" : "seen")
        let timeline = Timeline(
            service: series.service, operation: series.operation, state: stateName,
            firstSeen: RFC3339.format(milliseconds: record.createdMs),
            firstMiss: record.firstMissMs > 0 ? RFC3339.format(milliseconds: record.firstMissMs) : nil,
            lastMiss: record.lastMissMs > 0 ? RFC3339.format(milliseconds: record.lastMissMs) : nil,
            completed: record.completedMs > 0 ? RFC3339.format(milliseconds: record.completedMs) : nil,
            lastSeen: RFC3339.format(milliseconds: record.lastSeenMs),
            counts: [
                "miss": record.miss, "hit": record.hit, "in_flight": record.inFlight, "completed": record.completed,
                "mismatch": record.mismatch,
            ],
            executions: record.miss, payloadVariants: Int(record.payloadVariants) + (record.payloadFingerprint == 0 ? 0 : 1),
            dedupWindowSeconds: config.dedupWindow.seconds, traces: Timeline.Traces(record.traces, open: record.open))
        return try ReadController.encode(timeline)
    }
}
