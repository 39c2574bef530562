import Crypto
import DedupVitalsCore
import DedupVitalsStorage
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// `POST /v1/events`, the JSON / NDJSON ingest protocol: bounds the request, reads and decodes the body, handles the
/// request's `Idempotency-Key`, hands the events to the ``IngestPipeline`` and answers 202 once they are durable
/// (docs/reference/http-api.md#ingest).
struct IngestController: Sendable {
    static let idempotencyKeyHeader = HTTPField.Name("Idempotency-Key")!
    static let replayedHeader = HTTPField.Name("Idempotent-Replayed")!

    /// The configuration in force: `limits` are read per request, so that a reload changes them at once.
    let live: LiveConfiguration
    var limits: ServiceConfig.Limits { live.limits }
    let pipeline: IngestPipeline
    let store: DedupStore
    let counters: IngestCounters
    let clock: @Sendable () -> Int64
    let hasher: KeyHasher
    let inProgress = IdempotencyGuard()
    let pressure: IngestPressure

    init(
        live: LiveConfiguration, pipeline: IngestPipeline, store: DedupStore, counters: IngestCounters,
        clock: @escaping @Sendable () -> Int64, hasher: KeyHasher, pressure: IngestPressure
    ) {
        self.live = live
        self.pipeline = pipeline
        self.store = store
        self.counters = counters
        self.clock = clock
        self.hasher = hasher
        self.pressure = pressure
    }

    func addRoutes(to router: Router<DedupRequestContext>) {
        router.post("/v1/events") { request, context in
            try await ingest(request, context: context)
        }
    }

    func ingest(_ request: Request, context: DedupRequestContext) async throws -> Response {
        let contentType = request.headers.value(.contentType)
        guard let format = BodyFormat(contentType: contentType) else {
            throw reject(
                APIError(
                    .unsupportedMediaType, code: "unsupported_media_type",
                    message: "Content-Type must be application/json or application/x-ndjson, not \(contentType ?? "")"))
        }
        let encoding: ContentEncoding
        do {
            encoding = try ContentEncoding(request: request.headers)
        } catch {
            throw reject(error)
        }
        let ticket = try enter()
        defer { ticket.release() }
        let body = try await readBody(request, ticket: ticket, encoding: encoding)
        let caller = context.caller

        guard let idempotencyKey = request.headers.value(Self.idempotencyKeyHeader) else {
            return try await process(body, format: format, caller: caller, idempotency: nil)
        }
        // Header bytes that are not UTF-8 reach us replaced by U+FFFD, so two different keys would hash alike and
        // one request could be answered with the other's stored response: such keys are refused.
        guard !idempotencyKey.unicodeScalars.contains("\u{FFFD}") else {
            throw reject(
                APIError(
                    .badRequest, code: "invalid_idempotency_key",
                    message: "Idempotency-Key must be valid UTF-8 (and may not contain U+FFFD, which invalid bytes are read as)"))
        }
        guard !idempotencyKey.isEmpty, idempotencyKey.utf8.count <= 255 else {
            throw reject(
                APIError(.badRequest, code: "invalid_idempotency_key", message: "Idempotency-Key must be 1 to 255 bytes"))
        }
        let scope = caller?.name ?? ""
        guard inProgress.claim(scope: scope, key: idempotencyKey) else {
            throw reject(
                APIError(
                    .conflict, code: "request_in_progress",
                    message: "a request with this Idempotency-Key is still being processed; retry later", retryAfter: 1))
        }
        defer { inProgress.release(scope: scope, key: idempotencyKey) }
        let storedKey = hasher.ingestKeyHash(idempotencyKey, scope: scope)
        let bodyHash = Self.fingerprint(body, format: format)
        let stored: StoredResponse?
        do {
            stored = try store.storedResponse(scope: scope, key: storedKey)
        } catch {
            throw reject(.storageUnavailable(error))
        }
        if let stored {
            guard stored.bodySHA256 == bodyHash else {
                throw reject(
                    APIError(
                        .unprocessableContent, code: "idempotency_key_reused",
                        message: "this Idempotency-Key was used with a different request body"))
            }
            let accepted = (try? JSONDecoder().decode(AcceptedBody.self, from: stored.body).accepted) ?? 0
            counters.record(code: stored.status, events: accepted, result: .replayed)
            return Response(
                status: .init(code: stored.status),
                headers: [.contentType: "application/json", Self.replayedHeader: "true"],
                body: .init(byteBuffer: ByteBuffer(bytes: stored.body)))
        }
        return try await process(body, format: format, caller: caller, idempotency: (scope, storedKey, bodyHash))
    }

    private struct AcceptedBody: Decodable {
        var accepted: Int
    }

    private func process(
        _ body: ByteBuffer, format: BodyFormat, caller: Credentials.Caller?,
        idempotency: (scope: String, key: String, hash: Data)?
    ) async throws -> Response {
        let nowMs = clock()
        let decoder = EventDecoder(maxEvents: limits.maxEventsPerRequest)
        let events: [Event]
        do {
            events = try body.withUnsafeReadableBytes { raw throws(EventDecodingError) in
                try decoder.decode(raw.bindMemory(to: UInt8.self), format: format, nowMs: nowMs, hashing: hasher)
            }
        } catch {
            throw reject(Self.apiError(for: error), events: error.isInvalidEvent ? 1 : 0)
        }
        let responseBody = Data("{\"accepted\":\(events.count)}".utf8)
        let record = idempotency.map {
            IdempotencyRecord(
                scope: $0.scope, key: $0.key, response: StoredResponse(bodySHA256: $0.hash, status: 202, body: responseBody))
        }
        do {
            try await pipeline.submit(.init(events: events, receivedAtMs: nowMs, caller: caller, idempotencyRecord: record))
        } catch {
            throw reject(error, events: events.count)
        }
        counters.record(code: 202, events: events.count, result: .accepted)
        return Response(
            status: .accepted, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: responseBody)))
    }

    /// A slot among the in-flight ingest requests (503 beyond the bound).
    private func enter() throws -> IngestPressure.Ticket {
        do { return try pressure.enter(counting: counters.limits) } catch { throw reject(error) }
    }

    /// Reads (and inflates) the body under the limits (413, 408, 503, 400): see ``BodyReader``.
    private func readBody(_ request: Request, ticket: IngestPressure.Ticket, encoding: ContentEncoding) async throws -> ByteBuffer
    {
        do {
            return try await BodyReader(limits: limits, counters: counters.limits).read(
                request, ticket: ticket, encoding: encoding)
        } catch let error as APIError {
            throw reject(error)
        }
    }

    /// Counts a refused request and returns its error.
    private func reject(_ error: APIError, events: Int = 0) -> APIError {
        counters.record(code: Int(error.status.code), events: events, result: .rejected)
        return error
    }

    static func apiError(for error: EventDecodingError) -> APIError {
        switch error {
        case .invalidJSON(let message, let line, let column):
            APIError(.badRequest, code: "invalid_json", message: message, line: line, column: column)
        case .invalidEvent(let message, let index, let field):
            APIError(.badRequest, code: "invalid_event", message: "event \(index): \(message)", index: index, field: field)
        case .tooManyEvents(let limit):
            APIError(.contentTooLarge, code: "too_many_events", message: "a request may carry at most \(limit) events")
        }
    }

    /// SHA-256 over the body and its format: "same body" for idempotent replays.
    static func fingerprint(_ body: ByteBuffer, format: BodyFormat) -> Data {
        var hasher = SHA256()
        hasher.update(data: [format == .json ? 0x4A : 0x4E])
        body.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
        return Data(hasher.finalize())
    }
}

extension EventDecodingError {
    var isInvalidEvent: Bool {
        if case .invalidEvent = self { return true }
        return false
    }
}
