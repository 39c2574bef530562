import AsyncHTTPClient
import DedupVitalsCore
import Foundation
import NIOCore
import NIOHTTP1

/// The JSON API of a running dedup-vitals service, as the dashboard and the simulator use it.
public struct ServiceClient: Sendable {
    /// An answer: status, body, and `Retry-After` in seconds when present.
    public struct Answer: Sendable {
        public var status: Int
        public var body: ByteBuffer
        public var retryAfterSeconds: Double?
    }

    /// The base URL without a trailing slash, e.g. `http://127.0.0.1:9470`.
    public let baseURL: String
    /// Sent as `Authorization: Bearer TOKEN` when set.
    public let token: String?
    public let timeout: TimeAmount
    private let http: HTTPClient

    /// `caFile`: a PEM file of the CA certificates to trust for an `https` URL instead of the system's (a service
    /// whose certificate a private CA signed).
    public init(
        baseURL: String, token: String? = nil, timeout: TimeAmount = .seconds(5), caFile: String? = nil
    ) throws(ServiceClientError) {
        var url = baseURL
        while url.hasSuffix("/") { url.removeLast() }
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = parsed.host, !host.isEmpty, parsed.path.isEmpty || parsed.path == "/"
        else {
            throw .invalidURL(baseURL)
        }
        self.baseURL = url
        self.token = token
        self.timeout = timeout
        if let caFile {
            self.http = try TrustedHTTPClients.client(trusting: caFile)
        } else {
            self.http = HTTPClient.shared
        }
    }

    // MARK: - Endpoints

    /// `GET /v1/summary`, read by ``SummaryReader`` (at 10,000 series `JSONDecoder` took half of a refresh).
    public func summary() async throws(ServiceClientError) -> SummaryResponse {
        let path = "/v1/summary"
        return try read(try await send(.GET, path), path: path, SummaryReader.read)
    }

    /// `GET /v1/alerts`; nil when the service has no such endpoint (404).
    public func alerts() async throws(ServiceClientError) -> [AlertItem]? {
        let path = "/v1/alerts"
        let answer = try await send(.GET, path)
        if answer.status == 404 { return nil }
        let response: AlertsResponse = try decode(answer, path: path)
        return response.alerts
    }

    /// `GET /v1/series` for one series, read by ``SeriesHistoryReader``; nil when the service does not know the series or the endpoint (404).
    public func series(
        service: String, operation: String, window: String, step: String
    ) async throws(ServiceClientError) -> SeriesHistory? {
        let path = "/v1/series?service=\(Self.escape(service))&operation=\(Self.escape(operation))&window=\(window)&step=\(step)"
        let answer = try await send(.GET, path)
        if answer.status == 404 { return nil }
        return try read(answer, path: path, SeriesHistoryReader.read)
    }

    /// The request header that carries the shard key (the events' service) to a sharding proxy in front of several
    /// instances (deploy/haproxy/haproxy.cfg hashes on it). An instance itself ignores it.
    public static let shardHeader = "X-Dedup-Shard"

    /// `POST /v1/events` with a JSON body; `shard`, when given, is sent as ``shardHeader`` and must be the service of
    /// every event in the body; `idempotencyKey`, when given, as `Idempotency-Key`, so that the batch sent again
    /// after ``ServiceClientError/noAnswer(url:reason:)`` is counted once. Any status is returned; only transport
    /// failures throw.
    public func postEvents(
        _ body: [UInt8], shard: String? = nil, idempotencyKey: String? = nil
    ) async throws(ServiceClientError) -> Answer {
        var headers: [(String, String)] = []
        if let shard { headers.append((Self.shardHeader, shard)) }
        if let idempotencyKey { headers.append(("Idempotency-Key", idempotencyKey)) }
        return try await send(.POST, "/v1/events", body: body, headers: headers)
    }

    // MARK: - Transport

    private func decode<T: Decodable>(_ answer: Answer, path: String) throws(ServiceClientError) -> T {
        try read(answer, path: path) { try JSONDecoder().decode(T.self, from: Data($0)) }
    }

    /// The value `reader` reads from a successful answer's body.
    private func read<T>(
        _ answer: Answer, path: String, _ reader: (UnsafeBufferPointer<UInt8>) throws -> T
    ) throws(ServiceClientError) -> T {
        guard (200..<300).contains(answer.status) else {
            throw .status(url: baseURL + path, code: answer.status, message: Self.errorMessage(answer.body))
        }
        do {
            return try answer.body.withUnsafeReadableBytes { try reader($0.assumingMemoryBound(to: UInt8.self)) }
        } catch {
            throw .invalidResponse(url: baseURL + path, reason: Self.describe(decoding: error))
        }
    }

    private func send(
        _ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, headers: [(String, String)] = []
    ) async throws(ServiceClientError) -> Answer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(contentsOf: headers)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await http.execute(request, timeout: timeout)
            let buffer = try await response.body.collect(upTo: 64 << 20)
            let retryAfter = response.headers.first(name: "Retry-After").flatMap(Double.init)
            return Answer(status: Int(response.status.code), body: buffer, retryAfterSeconds: retryAfter)
        } catch {
            let url = baseURL + path.prefix { $0 != "?" }
            if Self.mayHaveArrived(error) { throw .noAnswer(url: url, reason: Self.describe(transport: error)) }
            throw .unreachable(url: url, reason: Self.describe(transport: error))
        }
    }

    // MARK: - Messages

    /// The `message` of the service's `{"error": {...}}` body, or the body's first line.
    static func errorMessage(_ body: ByteBuffer) -> String {
        struct ErrorBody: Decodable {
            struct Detail: Decodable { var message: String }
            var error: Detail
        }
        let data = Data(body.readableBytesView)
        if let decoded = try? JSONDecoder().decode(ErrorBody.self, from: data) { return decoded.error.message }
        return String(decoding: data.prefix(200), as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
    }

    /// Whether a transport failure came after the request may have reached the service (a timeout while waiting for
    /// the answer, the connection closed under it), rather than before (refused, not resolved, handshake failed).
    static func mayHaveArrived(_ error: any Error) -> Bool {
        guard let error = error as? HTTPClientError else { return false }
        switch error {
        case .deadlineExceeded, .readTimeout, .remoteConnectionClosed: return true
        default: return false
        }
    }

    /// A short reason for a transport failure, e.g. `connection refused`.
    static func describe(transport error: any Error) -> String {
        if let error = error as? IOError { return Self.lowercasedFirst(String(cString: strerror(error.errnoCode))) }
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: return "connection timed out"
            case .deadlineExceeded, .readTimeout: return "no answer within the timeout"
            case .remoteConnectionClosed: return "the connection was closed by the service"
            default: return "\(error)"
            }
        }
        let text = "\(error)"
        if text.contains("Connection refused") || text.contains("connectionRefused") { return "connection refused" }
        return text
    }

    static func describe(decoding error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "missing field \(key.stringValue)"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "bad field \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.dataCorrupted: "not JSON"
        default: "\(error)"
        }
    }

    private static func lowercasedFirst(_ text: String) -> String {
        text.prefix(1).lowercased() + text.dropFirst()
    }

    private static func escape(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+?#")))
            ?? value
    }
}
