import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// A live local HTTP receiver on a loopback port: records every POST and answers with scripted statuses.
final class TestReceiver: Sendable {
    struct Request: Sendable {
        var path: String
        var headers: [String: String]
        var body: [UInt8]
        var receivedAt: ContinuousClock.Instant

        var webhookID: String { headers["webhook-id"] ?? "" }
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
    }

    /// A status to answer and its headers.
    struct Answer: Sendable {
        var status: Int
        var headers: [String: String] = [:]
        /// How long to hold the request before answering (a slow receiver).
        var delay: Duration = .zero
    }

    private struct State {
        var requests: [Request] = []
        /// Answers used in order; when empty, `fallback`.
        var script: [Answer] = []
        var fallback = Answer(status: 200)
    }

    private final class Recorder: Sendable {
        let state = Mutex(State())
    }

    private let recorder: Recorder
    private let group: ServiceGroup
    private let task: Task<Void, any Error>
    let port: Int

    var url: String { "http://127.0.0.1:\(port)/hook" }
    var baseURL: String { "http://127.0.0.1:\(port)" }
    var requests: [Request] { recorder.state.withLock { $0.requests } }

    func answer(_ script: [Answer], then fallback: Answer) {
        recorder.state.withLock {
            $0.script = script
            $0.fallback = fallback
        }
    }

    private init(recorder: Recorder, group: ServiceGroup, task: Task<Void, any Error>, port: Int) {
        self.recorder = recorder
        self.group = group
        self.task = task
        self.port = port
    }

    static func start() async throws -> TestReceiver {
        let recorder = Recorder()
        let router = Router()
        let handler: @Sendable (Request) -> Answer = { request in
            recorder.state.withLock {
                $0.requests.append(request)
                return $0.script.isEmpty ? $0.fallback : $0.script.removeFirst()
            }
        }
        router.post("**") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let answer = handler(
                Request(
                    path: request.uri.path, headers: headers, body: Array(buffer: body), receivedAt: .now))
            if answer.delay > .zero { try await Task.sleep(for: answer.delay) }
            var responseHeaders = HTTPFields()
            for (name, value) in answer.headers { responseHeaders[HTTPField.Name(name)!] = value }
            return Response(
                status: .init(code: answer.status), headers: responseHeaders, body: .init(byteBuffer: ByteBuffer(string: "ok")))
        }
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) },
            logger: Logger(label: "test-receiver", factory: { _ in SwiftLogNoOpLogHandler() }))
        let group = ServiceGroup(
            configuration: .init(
                services: [app], logger: Logger(label: "test-receiver", factory: { _ in SwiftLogNoOpLogHandler() })))
        let task = Task { try await group.run() }
        var iterator = portStream.makeAsyncIterator()
        let port = await iterator.next() ?? 0
        return TestReceiver(recorder: recorder, group: group, task: task, port: port)
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}
