/// Why a request to the service failed, as one line for humans.
public enum ServiceClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The URL given is not an http(s) URL.
    case invalidURL(String)
    /// No connection: refused, name resolution, TLS handshake, ... The request did not reach the service.
    case unreachable(url: String, reason: String)
    /// The request was sent but no answer came (timeout, connection closed): the service may have processed it.
    case noAnswer(url: String, reason: String)
    /// The service answered with an error status.
    case status(url: String, code: Int, message: String)
    /// The answer could not be read.
    case invalidResponse(url: String, reason: String)
    /// The `--cacert` file cannot be used.
    case invalidCA(file: String, reason: String)

    public var description: String {
        switch self {
        case .invalidURL(let url): "invalid URL \"\(url)\": expected http://HOST:PORT"
        case .unreachable(let url, let reason): "cannot reach \(url): \(reason)"
        case .noAnswer(let url, let reason): "no answer from \(url): \(reason)"
        case .status(let url, let code, let message): "\(url) answered \(code)" + (message.isEmpty ? "" : ": \(message)")
        case .invalidResponse(let url, let reason): "unexpected answer from \(url): \(reason)"
        case .invalidCA(let file, let reason): "cannot use the CA certificates in \(file): \(reason)"
        }
    }
}
