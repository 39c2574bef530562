import DedupVitalsCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `POST /v1/logs`, the OTLP/HTTP logs receiver (docs/otlp.md, docs/reference/http-api.md#post-v1logs): reads an
/// `ExportLogsServiceRequest` in protobuf or JSON, gzip or deflate, turns its decision records into events
/// (``DecisionConvention``) and hands them to the ``IngestPipeline`` like `/v1/events` does; answers once they are
/// durable, with `partial_success` for the records it rejected.
///
/// Every error is a `google.rpc.Status` in the request's encoding, as OTLP requires; 429 and 503 carry an integer
/// `Retry-After`, the only form some exporters read.
struct OTLPLogsController: Sendable {
    /// The configuration in force: `limits` are read per request, so that a reload changes them at once.
    let live: LiveConfiguration
    var limits: ServiceConfig.Limits { live.limits }
    let pipeline: IngestPipeline
    let counters: IngestCounters
    let clock: @Sendable () -> Int64
    let pressure: IngestPressure

    static let path = "/v1/logs"

    func addRoutes(to router: Router<DedupRequestContext>) {
        router.post(RouterPath(Self.path)) { request, context in
            let encoding = Self.encoding(of: request)
            do throws(APIError) {
                return try await export(request, caller: context.caller, encoding: encoding)
            } catch {
                counters.record(code: Int(error.status.code))
                return Self.errorResponse(error, encoding: encoding ?? .json)
            }
        }
    }

    private func export(
        _ request: Request, caller: Credentials.Caller?, encoding: OTLPResponse.Encoding?
    ) async throws(APIError) -> Response {
        guard let encoding else {
            throw APIError(
                .unsupportedMediaType, code: "unsupported_media_type",
                message:
                    "Content-Type must be application/x-protobuf or application/json, not \(request.headers[.contentType] ?? "")")
        }
        let contentEncoding = try ContentEncoding(request: request.headers)
        let ticket = try pressure.enter(counting: counters.limits)
        defer { ticket.release() }
        let body: ByteBuffer
        do {
            body = try await BodyReader(limits: limits, counters: counters.limits).read(
                request, ticket: ticket, encoding: contentEncoding)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.badRequest, code: "bad_request", message: "the request body could not be read: \(error)")
        }

        let nowMs = clock()
        var convention = DecisionConvention(nowMs: nowMs, maxDecisions: limits.maxEventsPerRequest, scope: Self.scope(of: caller))
        do throws(OTLPDecodingError) {
            switch encoding {
            case .protobuf:
                try body.withUnsafeReadableBytes { (raw) throws(OTLPDecodingError) in
                    try OTLPProtobufLogsDecoder.decode(raw.bindMemory(to: UInt8.self), into: &convention)
                }
            case .json: try OTLPJSONLogsDecoder.decode(Array(body.readableBytesView), into: &convention)
            }
        } catch {
            switch error {
            case .malformed(let message):
                throw APIError(.badRequest, code: "invalid_otlp", message: message)
            case .tooManyDecisions(let limit):
                throw APIError(
                    .contentTooLarge, code: "too_many_events", message: "a request may carry at most \(limit) decision records")
            }
        }
        let batch = convention.batch
        if !batch.events.isEmpty {
            try await pipeline.submit(.init(events: batch.events, receivedAtMs: nowMs, caller: caller, idempotencyRecord: nil))
        }
        counters.record(code: 200, events: batch.events.count, result: .accepted)
        counters.recordEvents(batch.rejected, result: .rejected)
        counters.recordIgnoredLogRecords(batch.ignored)
        let answer = OTLPResponse.exportLogs(rejected: batch.rejected, errorMessage: batch.firstProblem, encoding: encoding)
        return Response(
            status: .ok, headers: [.contentType: encoding.contentType], body: .init(byteBuffer: ByteBuffer(bytes: answer)))
    }

    /// A record of a service outside the token's scope is rejected on its own (in `partial_success`), not the
    /// request: a Collector forwards the decisions of many services in one request, and a 403 would make it drop
    /// the decisions the token may report too.
    static func scope(of caller: Credentials.Caller?) -> (String) -> String? {
        guard let caller else { return { _ in nil } }
        return { service in
            caller.mayReport(service) ? nil : "token \(caller.name) may not report service \(service)"
        }
    }

    /// The encoding a request's Content-Type names; nil for any other media type.
    static func encoding(of request: Request) -> OTLPResponse.Encoding? {
        guard let value = request.headers.value(.contentType) else { return nil }
        let media = value.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        switch media.trimmingCharacters(in: .whitespaces).lowercased() {
        case "application/x-protobuf", "application/protobuf": return .protobuf
        case "application/json": return .json
        default: return nil
        }
    }

    /// `error` as a `google.rpc.Status` in `encoding`, with its status and `Retry-After`.
    static func errorResponse(_ error: APIError, encoding: OTLPResponse.Encoding) -> Response {
        var headers: HTTPFields = [.contentType: encoding.contentType]
        if let retryAfter = error.retryAfter { headers[.retryAfter] = String(retryAfter) }
        let body = OTLPResponse.status(httpStatus: Int(error.status.code), message: error.message, encoding: encoding)
        return Response(status: error.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
