/// What one delivery attempt of a batch came to, and so what the sender does next.
enum DeliveryResult: Sendable, Equatable {
    /// 2xx: the service committed the batch (or replayed the answer to an earlier attempt of it).
    case delivered
    /// Worth another attempt with the same Idempotency-Key and body: connection error, timeout, 408, 409 (an
    /// earlier attempt is still being processed), 429, 5xx other than 501/505. `retryAfter` as the service asked.
    case retry(retryAfter: Duration?, reason: String)
    /// The service does not take gzip bodies (415, or 400 `invalid_json` on a gzip body): send uncompressed.
    case uncompressedOnly
    /// Another 4xx (or 501/505): the batch will never be accepted as it is.
    case rejected(status: Int, reason: String)

    /// Classifies an HTTP answer.
    static func classify(status: Int, body: String, retryAfter: Duration?, wasCompressed: Bool) -> DeliveryResult {
        switch status {
        case 200..<300:
            return .delivered
        case 415 where wasCompressed:
            return .uncompressedOnly
        case 400 where wasCompressed && body.contains("\"invalid_json\""):
            return .uncompressedOnly
        case 501, 505:
            return .rejected(status: status, reason: "HTTP \(status): \(body.prefix(300))")
        case 408, 409, 429, 500..<600:
            return .retry(retryAfter: retryAfter, reason: "HTTP \(status)")
        default:
            return .rejected(status: status, reason: "HTTP \(status): \(body.prefix(300))")
        }
    }
}
