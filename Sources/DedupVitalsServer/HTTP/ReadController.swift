import DedupVitalsCore
import DedupVitalsStorage
import Foundation
import Hummingbird

/// The read side: `/metrics`, `/v1/summary` (the health checks are ``HealthController``'s).
struct ReadController: Sendable {
    /// The configuration in force (windows change on reload).
    let live: LiveConfiguration
    var config: ServiceConfig { live.config }
    let store: DedupStore
    let state: LiveState
    let clock: @Sendable () -> Int64
    var alerting: AlertingState? = nil
    /// The service's measurements of itself; nil: those families have no samples.
    var telemetry: ServiceTelemetry? = nil

    func addRoutes(to router: Router<DedupRequestContext>) {
        router.get("/metrics") { request, _ in
            metrics(accept: request.headers[.accept])
        }
        router.get("/v1/summary") { _, _ in
            try summary()
        }
    }

    func metrics(accept: String?) -> Response {
        let format = ScrapeFormat(accept: accept)
        let nowMs = clock()
        let running = live.config
        let windows = running.windows
        let snapshot = state.withWindows { $0.snapshot(windows: windows, nowMs: nowMs) }
        var forensics = state.withForensics {
            MetricsRenderer.Forensics(trackedKeys: $0.keyCount, evictions: $0.evictions, figures: $0.figures(of: snapshot))
        }
        forensics.staleInFlightKeys = state.staleInFlightKeys(nowMs: nowMs)
        let renderer = MetricsRenderer(windows: windows, version: DedupVitalsVersion.current, export: running.metrics)
        let selfMetrics = telemetry?.snapshot()
        return switch format {
        case .exposition(let exposition):
            Self.streamed(
                renderer.stream(
                    series: snapshot, forensics: forensics, counters: state.counters, format: exposition, alerting: alerting,
                    errors: state.errors, selfMetrics: selfMetrics), contentType: format.contentType)
        case .protobuf:
            Self.streamed(
                renderer.protobufStream(
                    series: snapshot, forensics: forensics, counters: state.counters, alerting: alerting, errors: state.errors,
                    selfMetrics: selfMetrics), contentType: format.contentType)
        }
    }

    /// Sent chunk by chunk as it is rendered (chunked transfer encoding): no buffer of the whole exposition.
    private static func streamed(_ stream: some MetricsChunks & Sendable, contentType: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: contentType],
            body: .init { writer in
                var stream = stream
                while let chunk = stream.next() { try await writer.write(chunk) }
                try await writer.finish(nil)
            })
    }

    func summary() throws -> Response {
        Self.json(try summaryDocument().jsonBytes())
    }

    /// The document of `GET /v1/summary` now.
    func summaryDocument() -> SummaryDocument {
        let nowMs = clock()
        let config = self.config
        let snapshot = state.withWindows { $0.snapshot(windows: config.windows, nowMs: nowMs) }
        var document = SummaryDocument(snapshot: snapshot, windows: config.windows, nowMs: nowMs)
        document.addForensics(snapshot: snapshot, state: state, config: config, nowMs: nowMs)
        if let alerting {
            let url = alerting.externalURL
            document.alerts = alerting.instances.filter { $0.state == .firing }.map { AlertDocument($0, externalURL: url) }
        }
        return document
    }

    static func encode(_ value: some Encodable) throws -> Response {
        json(try jsonEncoder().encode(value))
    }

    /// The encoder of every JSON document: keys sorted, so that a document reads the same from one answer to the next.
    static func jsonEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    private static func json(_ bytes: some Sequence<UInt8>) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
