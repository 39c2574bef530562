import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A plain TCP connection to a loopback port, for clients an HTTP library will not imitate: slow senders,
/// half-sent bodies.
final class RawConnection {
    private let fd: Int32

    /// Connects to `baseURL` (`http://127.0.0.1:PORT`).
    init(_ baseURL: String) throws {
        guard let port = URLComponents(string: baseURL)?.port else { throw TestFailure("no port in \(baseURL)") }
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw TestFailure("connect failed")
        }
    }

    deinit { close(fd) }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw TestFailure("send failed") }
            offset += sent
        }
    }

    /// The head of a request for `POST /v1/events` announcing `contentLength` body bytes.
    static func postHead(contentLength: Int) -> String {
        "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(contentLength)\r\n\r\n"
    }

    /// Reads one response (head and `Content-Length` body) within `timeout`; nil when none arrived in time.
    /// Polls without blocking, so that an in-process server keeps the cooperative threads it needs.
    func readResponse(timeout: Duration) async -> (status: Int, head: String, body: String)? {
        let deadline = ContinuousClock.now + timeout
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            if let response = Self.parse(data) { return response }
            guard isReadable() else {
                try? await Task.sleep(for: .milliseconds(10))
                continue
            }
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { return Self.parse(data) }
            data += buffer[..<count]
        }
        return Self.parse(data)
    }

    /// Whether the server closed the connection within `timeout`.
    func isClosed(within timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            guard isReadable() else {
                try? await Task.sleep(for: .milliseconds(10))
                continue
            }
            if recv(fd, &buffer, buffer.count, 0) <= 0 { return true }
        }
        return false
    }

    /// Whether a read would not block (data or end of stream waiting).
    private func isReadable() -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, 0) > 0
    }

    private static func parse(_ data: [UInt8]) -> (status: Int, head: String, body: String)? {
        let text = String(decoding: data, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { return nil }
        let head = String(text[..<end.lowerBound])
        let body = String(text[end.upperBound...])
        let length =
            head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
        guard body.utf8.count >= length, let status = Int(head.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return (status, head, body)
    }
}
