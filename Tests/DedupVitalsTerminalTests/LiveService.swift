import DedupVitalsCore
import DedupVitalsTerminal
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1

/// A real dedup-vitals service (the test kit's) on a loopback port with a SQLite file in a temporary directory.
enum LiveService {
    /// Runs `body` with a client of a fresh service and a plain HTTP client of it; the service is stopped afterwards.
    static func run(_ body: @Sendable (ServiceClient, RawClient) async throws -> Void) async throws {
        let directory = try TemporaryDirectory()
        try await withService(database: directory.file("db.sqlite")) { service in
            try await body(try ServiceClient(baseURL: service.baseURL), RawClient(baseURL: service.baseURL))
        }
    }

    /// Posts events and checks they were all accepted.
    static func post(_ events: [Event], to client: ServiceClient) async throws {
        let answer = try await client.postEvents(EventWireFormat.jsonArray(events))
        guard answer.status == 202 else { throw ServiceClientError.status(url: "/v1/events", code: answer.status, message: "") }
    }

    static var nowMs: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

/// Plain requests to the service, answered with the status and body as received.
struct RawClient: Sendable {
    struct Response: Sendable {
        var status: HTTPResponse.Status
        var body: ByteBuffer
    }

    let baseURL: String

    func execute(uri: String, method: HTTPRequest.Method) async throws -> Response {
        let reply = try await HTTP.request(HTTPMethod(rawValue: method.rawValue), baseURL + uri)
        return Response(status: .init(code: reply.status), body: ByteBuffer(bytes: reply.body))
    }
}

/// A loopback port nothing listens on: bound to get a free number, and kept bound.
enum ClosedPort {
    /// The socket stays bound, without listening, until the test process ends: connecting is refused, and no
    /// service of a test running in parallel can take the port (closing it let one do so, and `simulate` against a
    /// "closed" port was then accepted).
    static func make() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
