import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A small HTTP/1.1 server on loopback between the reporter and a live dedup-vitals: per request it answers itself
/// (503, 400, 415...) or forwards to the service, optionally holding the service's answer back (a slow peer).
final class FaultProxy: Sendable {
    struct Seen: Sendable {
        let idempotencyKey: String?
        let contentEncoding: String?
        let at: ContinuousClock.Instant
        /// The status the reporter was answered (nil while the answer is pending or was never written).
        var status: Int?
    }

    enum Action: Sendable {
        case respond(status: Int, headers: [(String, String)] = [], body: String = "")
        /// Forward to the upstream service; answer after `delay`.
        case forward(delay: Duration = .zero)
    }

    typealias Decide = @Sendable (_ index: Int, _ request: Seen) -> Action

    let port: Int
    private let upstream: String?
    private let decide: Decide
    private let seen = Mutex<[Seen]>([])
    private let server: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>

    private init(
        server: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>,
        upstream: String?, decide: @escaping Decide
    ) {
        self.server = server
        self.port = server.channel.localAddress?.port ?? 0
        self.upstream = upstream
        self.decide = decide
    }

    /// Binds 127.0.0.1 on a free port and serves until ``close()``.
    static func start(upstream: String?, decide: @escaping Decide) async throws -> FaultProxy {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                }
            }
        let proxy = FaultProxy(server: server, upstream: upstream, decide: decide)
        Task { await proxy.serve() }
        return proxy
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var requests: [Seen] { seen.withLock { $0 } }

    func close() async {
        try? await server.channel.close()
    }

    private func serve() async {
        try? await server.executeThenClose { connections in
            try await withThrowingDiscardingTaskGroup { group in
                for try await connection in connections {
                    group.addTask { try? await self.handle(connection) }
                }
            }
        }
    }

    private func handle(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async throws {
        try await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body = ByteBuffer()
            for try await part in inbound {
                switch part {
                case .head(let requestHead):
                    head = requestHead
                    body.clear()
                case .body(var chunk):
                    body.writeBuffer(&chunk)
                case .end:
                    guard let head else { continue }
                    let request = Seen(
                        idempotencyKey: head.headers.first(name: "Idempotency-Key"),
                        contentEncoding: head.headers.first(name: "Content-Encoding"), at: .now)
                    let index = seen.withLock { $0.append(request); return $0.count - 1 }
                    let (status, headers, responseBody) = try await answer(decide(index, request), head: head, body: body)
                    var responseHeaders = HTTPHeaders(headers)
                    responseHeaders.replaceOrAdd(name: "Content-Length", value: "\(responseBody.readableBytes)")
                    try await outbound.write(.head(HTTPResponseHead(
                        version: .http1_1, status: .init(statusCode: status), headers: responseHeaders)))
                    try await outbound.write(.body(.byteBuffer(responseBody)))
                    try await outbound.write(.end(nil))
                    seen.withLock { $0[index].status = status }
                }
            }
        }
    }

    private func answer(_ action: Action, head: HTTPRequestHead, body: ByteBuffer) async throws -> (Int, [(String, String)], ByteBuffer) {
        switch action {
        case .respond(let status, let headers, let text):
            return (status, headers + [("Content-Type", "application/json")], ByteBuffer(string: text))
        case .forward(let delay):
            guard let upstream else { throw TestSetupError("no upstream to forward to") }
            var request = HTTPClientRequest(url: upstream + head.uri)
            request.method = head.method
            for (name, value) in head.headers where !["host", "content-length", "connection"].contains(name.lowercased()) {
                request.headers.add(name: name, value: value)
            }
            request.body = .bytes(body)
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            let responseBody = try await response.body.collect(upTo: 1 << 20)
            if delay > .zero { try await Task.sleep(for: delay) }
            let headers = response.headers.filter { !["content-length", "connection", "transfer-encoding"].contains($0.name.lowercased()) }
            return (Int(response.status.code), headers.map { ($0.name, $0.value) }, responseBody)
        }
    }
}
