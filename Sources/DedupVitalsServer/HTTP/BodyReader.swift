import DedupVitalsCore
import Hummingbird
import NIOCore

/// Reads an ingest body under the limits: at most `max_body_bytes` (413), within `body_read_timeout` (408, so a slow
/// client cannot hold a request slot and its memory; see ``BodyDeadlineHandler``), and only while the in-flight byte
/// bound allows (503). A gzip or deflate body is inflated under the same limits (``BodyInflater``).
struct BodyReader: Sendable {
    let limits: ServiceConfig.Limits
    let counters: LimitCounters

    func read(_ request: Request, ticket: IngestPressure.Ticket, encoding: ContentEncoding = .identity) async throws -> ByteBuffer
    {
        let limit = limits.maxBodyBytes
        if let length = request.headers.value(.contentLength).flatMap(Int.init), length > limit {
            throw Self.tooLarge(limit)
        }
        // The deadline is enforced in the channel pipeline (``BodyDeadlineHandler``): a late body stream fails.
        do {
            let body = try await Self.collect(request.body, limit: limit, ticket: ticket, counters: counters)
            return try BodyInflater(limit: limit, ticket: ticket, counters: counters).inflate(body, encoding: encoding)
        } catch is BodyDeadlineHandler.BodyReadTimeout {
            throw APIError(
                .requestTimeout, code: "body_timeout", message: "the request body did not arrive within \(limits.bodyReadTimeout)"
            )
        }
    }

    private static func collect(
        _ body: RequestBody, limit: Int, ticket: IngestPressure.Ticket, counters: LimitCounters
    ) async throws -> ByteBuffer {
        var buffer = ByteBuffer()
        for try await chunk in body {
            guard buffer.readableBytes + chunk.readableBytes <= limit else { throw tooLarge(limit) }
            guard ticket.reserve(chunk.readableBytes) else {
                counters.recordOverloadRejection()
                throw IngestPressure.overloaded("buffered request bodies")
            }
            buffer.writeImmutableBuffer(chunk)
        }
        return buffer
    }

    static func tooLarge(_ limit: Int, decompressed: Bool = false) -> APIError {
        APIError(
            .contentTooLarge, code: "body_too_large",
            message: "request body exceeds \(limit) bytes\(decompressed ? " once decompressed" : "")")
    }
}
