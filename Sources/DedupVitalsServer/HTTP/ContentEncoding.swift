import Foundation
import HTTPTypes

/// The `Content-Encoding` of an ingest body: none, gzip or deflate (RFC 9110 section 8.4.1).
enum ContentEncoding: Sendable {
    case identity, gzip, deflate

    /// The encoding a request declares; 415 `unsupported_encoding` for any other (or a list of several).
    init(request headers: HTTPFields) throws(APIError) {
        guard let value = headers.value(.contentEncoding) else {
            self = .identity
            return
        }
        switch value.trimmingCharacters(in: .whitespaces).lowercased() {
        case "", "identity": self = .identity
        case "gzip", "x-gzip": self = .gzip
        case "deflate": self = .deflate
        default:
            throw APIError(
                .unsupportedMediaType, code: "unsupported_encoding",
                message: "Content-Encoding must be gzip, deflate or identity, not \(value)")
        }
    }
}
