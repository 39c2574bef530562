import DedupVitalsCore
import DedupVitalsServer
import DedupVitalsTerminal
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// A real dedup-vitals service on a loopback port with a SQLite file in a temporary directory.
enum LiveService {
    static func run(_ body: @Sendable (ServiceClient, any TestClientProtocol) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dv-top-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var config = ServiceConfig()
        config.database = directory.appendingPathComponent("db.sqlite").path
        config.listen = .init(host: "127.0.0.1", port: 0)
        var logger = Logger(label: "terminal-tests")
        logger.logLevel = .warning
        let service = try DedupVitalsService(config: config, logger: logger)
        try await service.makeApplication().test(.live) { client in
            let port = try #require(client.port)
            try await body(try ServiceClient(baseURL: "http://127.0.0.1:\(port)"), client)
        }
    }

    /// Posts events and checks they were all accepted.
    static func post(_ events: [Event], to client: ServiceClient) async throws {
        let answer = try await client.postEvents(EventWireFormat.jsonArray(events))
        guard answer.status == 202 else { throw ServiceClientError.status(url: "/v1/events", code: answer.status, message: "") }
    }

    static var nowMs: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

/// A loopback port nothing listens on: bound once to get a free number, then closed.
enum ClosedPort {
    static func make() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
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
