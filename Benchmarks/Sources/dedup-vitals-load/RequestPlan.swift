import NIOCore
import NIOHTTP1

/// The pre-encoded HTTP/1.1 requests one phase sends, and what every answer must be.
///
/// Requests are built once, before the clock starts, so the generator spends its CPU on I/O and timing only.
struct RequestPlan: Sendable {
    var requests: [ByteBuffer]
    var expectedStatus: UInt
    /// When set, every answer body must equal it byte for byte.
    var expectedBody: ByteBuffer?
    /// Events carried by each request (0 for GETs).
    var eventsPerRequest: Int
    var label: String
    /// The method and path, for the response decoder (see ``PreEncodedRequestWriter``).
    var head: HTTPRequestHead
    /// Under `--fresh-keys`: where each request's keys are rewritten before it is sent.
    var freshKeys: FreshKeys? = nil

    /// What the events of an ingest pool look like.
    struct EventShape: Sendable {
        var series: Int
        /// nil gives every event its own key; 0 sends no keys; N cycles over N distinct keys.
        var keys: Int?
        /// Every key of every request sent is new (see ``FreshKeys``).
        var freshKeys = false
        /// Callers (`client` `c0`…) the events are spread over; 0: no `client`.
        var clients = 0
        var mix = PlannedEvent.Mix.cycle
        var service: String
    }

    /// `GET path`, answered with `expectedStatus`.
    static func get(_ path: String, host: String, headers: [String], expectedStatus: UInt = 200) -> RequestPlan {
        let request = requestLines("GET", path, host: host, headers: headers) + "\r\n"
        return RequestPlan(
            requests: [ByteBuffer(string: request)], expectedStatus: expectedStatus, expectedBody: nil,
            eventsPerRequest: 0, label: "GET \(path)", head: HTTPRequestHead(version: .http1_1, method: .GET, uri: path))
    }

    /// `POST /v1/events` with `batch` events each, spread over `series` distinct (service, operation) series.
    ///
    /// Event `e` (counting across the pool) has operation `op<e % series>`, an outcome from a fixed cycle and, by
    /// default, key `k<e>`: one key per event of the pool, so pool size × batch distinct keys, seen again each time
    /// the pool cycles. The pool holds enough requests to touch every series once (at least 64), and connections cycle
    /// through it, so with one connection the first `ceil(series / batch)` requests create each series exactly once.
    /// `keys`: nil gives every event its own key; 0 sends no keys; N cycles over N distinct keys. `pool` overrides the
    /// pool size.
    static func ingest(batch: Int, shape: EventShape, pool: Int? = nil, host: String, headers: [String]) -> RequestPlan {
        let requests = pooledEvents(batch: batch, shape: shape, pool: pool).map { events in
            var body = batch == 1 ? "" : "["
            for (position, event) in events.enumerated() {
                if position > 0 { body += "," }
                body += #"{"service":"\#(shape.service)","operation":"\#(event.operation)","outcome":"\#(event.outcome)""#
                if let key = event.key { body += #","key":"\#(key)""# }
                if let client = event.client { body += #","client":"\#(client)""# }
                if let ageMs = event.ageMs { body += #","age_ms":\#(ageMs)"# }
                body += "}"
            }
            if batch != 1 { body += "]" }
            return post("/v1/events", contentType: "application/json", body: Array(body.utf8), host: host, headers: headers)
        }
        return RequestPlan(
            requests: requests, expectedStatus: 202, expectedBody: ByteBuffer(string: #"{"accepted":\#(batch)}"#),
            eventsPerRequest: batch, label: "POST batch=\(batch)",
            head: HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/events"),
            freshKeys: shape.freshKeys ? FreshKeys(requests: requests) : nil)
    }

    /// `POST /v1/logs` in OTLP protobuf with the same events as ``ingest(batch:shape:pool:host:headers:)`` (one
    /// decision log record each), answered 200 with an empty `ExportLogsServiceResponse`.
    static func otlp(batch: Int, shape: EventShape, pool: Int? = nil, host: String, headers: [String]) -> RequestPlan {
        let requests = pooledEvents(batch: batch, shape: shape, pool: pool).map { events in
            post(
                "/v1/logs", contentType: "application/x-protobuf",
                body: OTLPLogsEncoding.request(service: shape.service, events: events), host: host, headers: headers)
        }
        return RequestPlan(
            requests: requests, expectedStatus: 200, expectedBody: ByteBuffer(), eventsPerRequest: batch,
            label: "OTLP batch=\(batch)", head: HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/logs"),
            freshKeys: shape.freshKeys ? FreshKeys(requests: requests) : nil)
    }

    /// The events of the request pool, request by request.
    ///
    /// Event `e` (counting across the pool) has operation `op<e % series>`, an outcome from the mix, client
    /// `c<e % clients>` and, by default, key `k<e>`. The pool holds enough requests to touch every series once (at
    /// least 64).
    private static func pooledEvents(batch: Int, shape: EventShape, pool: Int?) -> [[PlannedEvent]] {
        let poolSize = pool ?? max(64, min((shape.series + batch - 1) / batch, 100_000))
        let fresh = shape.freshKeys ? PlannedEvent.freshKeyPlaceholder : ""
        var eventIndex = 0
        return (0..<poolSize).map { _ in
            (0..<batch).map { _ in
                defer { eventIndex += 1 }
                let key: String? =
                    switch shape.keys {
                    case nil: "k\(eventIndex)\(fresh)"
                    case 0: nil
                    case let distinct?: "k\(eventIndex % distinct)\(fresh)"
                    }
                let (outcome, ageMs) = PlannedEvent.outcome(eventIndex, mix: shape.mix)
                return PlannedEvent(
                    operation: "op\(eventIndex % shape.series)", outcome: outcome, key: key,
                    client: shape.clients > 0 ? "c\(eventIndex % shape.clients)" : nil, ageMs: ageMs)
            }
        }
    }

    private static func post(
        _ path: String, contentType: String, body: [UInt8], host: String, headers: [String]
    ) -> ByteBuffer {
        var request = ByteBuffer(string: requestLines("POST", path, host: host, headers: headers))
        request.writeString("Content-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n\r\n")
        request.writeBytes(body)
        return request
    }

    private static func requestLines(_ method: String, _ path: String, host: String, headers: [String]) -> String {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\n"
        for header in headers { text += header + "\r\n" }
        return text
    }
}
