import Foundation
import HTTPTypes
import Hummingbird

/// The middleware's refusals, answered as `{"error": {"code", "message"}}` like dedup-vitals' own API.
struct IdempotencyError: HTTPResponseError {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    var retryAfterSeconds: Int?

    static let keyRequired = IdempotencyError(
        status: .badRequest, code: "idempotency_key_required", message: "this route needs an Idempotency-Key header")
    static func invalidKey(maxLength: Int) -> IdempotencyError {
        IdempotencyError(
            status: .badRequest, code: "invalid_idempotency_key",
            message: "Idempotency-Key must be 1 to \(maxLength) bytes")
    }
    static let inProgress = IdempotencyError(
        status: .conflict, code: "request_in_progress",
        message: "a request with this Idempotency-Key is still being processed; retry later", retryAfterSeconds: 1)
    static let reused = IdempotencyError(
        status: .unprocessableContent, code: "idempotency_key_reused",
        message: "this Idempotency-Key was used with a different request")
    static let storeUnavailable = IdempotencyError(
        status: .serviceUnavailable, code: "idempotency_store_unavailable",
        message: "the idempotency store cannot be reached; nothing was executed", retryAfterSeconds: 1)

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = try JSONSerialization.data(withJSONObject: ["error": ["code": code, "message": message]], options: [.sortedKeys])
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
