import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A small HTTP client for tests, over AsyncHTTPClient.
public enum HTTP {
    public struct Reply: Sendable {
        public var status: Int
        public var headers: HTTPHeaders
        public var body: Data
        public var text: String { String(decoding: body, as: UTF8.self) }
        /// The body as a JSON object (empty when it is not one).
        public var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        /// `error.code` of a JSON error body.
        public var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    }

    public static func request(
        _ method: HTTPMethod, _ url: String, body: String? = nil, bytes: [UInt8]? = nil,
        headers: [(String, String)] = [("Content-Type", "application/json")]
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        if let bytes { request.body = .bytes(ByteBuffer(bytes: bytes)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let buffer = try await response.body.collect(upTo: 64 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers, body: Data(buffer.readableBytesView))
    }

    public static func post(
        _ url: String, _ body: String, contentType: String = "application/json", headers: [(String, String)] = []
    ) async throws -> Reply {
        try await request(.POST, url, body: body, headers: [("Content-Type", contentType)] + headers)
    }

    public static func get(_ url: String, headers: [(String, String)] = []) async throws -> Reply {
        try await request(.GET, url, headers: headers)
    }
}
