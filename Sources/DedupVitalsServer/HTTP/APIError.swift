import Foundation
import Hummingbird
import Logging

/// An error answered with the JSON shape of docs/reference/http-api.md#errors: `{"error": {"code", "message", ...}}`.
/// It is an `HTTPResponseError`, so Hummingbird answers with this shape wherever it is thrown, even outside
/// ``APIErrorMiddleware``.
public struct APIError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var index: Int?
    public var field: String?
    public var line: Int?
    public var column: Int?
    /// Seconds, sent as `Retry-After` (429 and 503).
    public var retryAfter: Int?

    public init(
        _ status: HTTPResponse.Status, code: String, message: String, index: Int? = nil, field: String? = nil,
        line: Int? = nil, column: Int? = nil, retryAfter: Int? = nil
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.index = index
        self.field = field
        self.line = line
        self.column = column
        self.retryAfter = retryAfter
    }

    private struct Body: Encodable {
        struct Detail: Encodable {
            var code: String
            var message: String
            var index: Int?
            var field: String?
            var line: Int?
            var column: Int?
        }
        var error: Detail
    }

    /// The JSON body. Encoding strings and integers cannot fail; should it ever, the body says so rather than
    /// being empty.
    public var bodyData: Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = Body(error: .init(code: code, message: message, index: index, field: field, line: line, column: column))
        do {
            return try encoder.encode(body)
        } catch {
            return Data(#"{"error":{"code":"internal","message":"the error body could not be encoded"}}"#.utf8)
        }
    }

    public func response(from request: Request, context: some RequestContext) -> Response { response }

    public var response: Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bodyData)))
    }

    static func notFound() -> APIError { APIError(.notFound, code: "not_found", message: "no such route") }

    /// The database refused a write: retryable, and nothing of the request was stored.
    static func storageUnavailable(_ error: any Error) -> APIError {
        APIError(
            .serviceUnavailable, code: "storage_unavailable",
            message: "the database cannot accept writes right now; nothing was stored (\(error))", retryAfter: 5)
    }
}

/// Turns any error thrown by a route into the JSON error shape, so that no route answers with an empty or HTML body.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return error.response
        } catch let error as HTTPError {
            let code: String =
                switch error.status {
                case .notFound: "not_found"
                case .methodNotAllowed: "method_not_allowed"
                case .contentTooLarge: "body_too_large"
                case .badRequest: "bad_request"
                default: error.status.code >= 500 ? "internal" : "bad_request"
                }
            return APIError(error.status, code: code, message: error.body ?? error.status.reasonPhrase).response
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            return APIError(.internalServerError, code: "internal", message: "internal error").response
        }
    }
}
