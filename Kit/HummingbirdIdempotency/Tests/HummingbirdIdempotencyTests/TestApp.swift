import AsyncHTTPClient
import DedupVitalsReporter
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdIdempotency
import HummingbirdTesting
import NIOCore
import Synchronization

/// Collects the decisions the middleware reports, to check each one. (The path from a `DecisionReporter` to a live
/// dedup-vitals is tested in the reporter's package and by `.ci/kit.sh` over the example service.)
final class RecordedDecisions: DecisionRecorder {
    private let events = Mutex<[DecisionEvent]>([])

    func record(_ event: DecisionEvent) { events.withLock { $0.append(event) } }

    var all: [DecisionEvent] { events.withLock { $0 } }

    func count(_ outcome: DecisionOutcome) -> Int { all.filter { $0.outcome == outcome }.count }
}

/// Counts handler executions.
final class Tally: Sendable {
    private let value = Mutex(0)

    func increment() -> Int { value.withLock { $0 += 1; return $0 } }
    var count: Int { value.withLock { $0 } }
}

/// A gate the handler waits at until the test opens it: holds the first attempt in flight.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    init(open: Bool = false) { state.withLock { $0.open = open } }

    func wait() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// A refund service guarded by the middleware: `POST /refunds` answers 201 with a fresh refund id (so a replay is
/// recognisable), `POST /refunds/flaky` answers 503 on its first execution.
struct TestApp {
    let store: any IdempotencyStore
    var configuration = IdempotencyConfiguration()
    let decisions = RecordedDecisions()
    /// Open unless a test holds the first attempt in the handler.
    var gate = Gate(open: true)
    let executions = Tally()
    var handlerDelay: Duration = .zero

    /// `configure` adjusts the configuration, gate or handler delay before the app is built.
    init(store: any IdempotencyStore, configure: (inout TestApp) -> Void = { _ in }) {
        self.store = store
        configure(&self)
    }

    func application() -> some ApplicationProtocol {
        let (gate, executions, handlerDelay) = (self.gate, self.executions, self.handlerDelay)
        let router = Router()
        let refunds = router.group("refunds").add(middleware: IdempotencyMiddleware(
            service: "payments", operation: "refund", store: store, recorder: decisions, configuration: configuration,
            caller: { request, _ in request.headers[HTTPField.Name("X-Client")!] }))
        refunds.post { request, context in
            let count = executions.increment()
            await gate.wait()
            if handlerDelay > .zero { try await Task.sleep(for: handlerDelay) }
            let body = try await request.body.collect(upTo: 1 << 20)
            let id = UUID().uuidString
            return Response(
                status: .created, headers: [.contentType: "application/json", HTTPField.Name("X-Refund-Id")!: id],
                body: .init(byteBuffer: ByteBuffer(string: #"{"refund":"\#(id)","execution":\#(count),"request":"\#(String(buffer: body))"}"#)))
        }
        refunds.post("flaky") { _, _ in
            let count = executions.increment()
            if count == 1 { return Response(status: .serviceUnavailable) }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ok after \(count)")))
        }
        refunds.post("invalid") { _, _ -> Response in
            _ = executions.increment()
            throw HTTPError(.badRequest, message: "amount must be positive")
        }
        return Application(router: router)
    }

    var executionCount: Int { executions.count }
}

/// One HTTP answer, read whole.
struct Answer: Sendable {
    let status: Int
    let headers: [(String, String)]
    let body: String

    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    var errorCode: String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else { return nil }
        return (object["error"] as? [String: Any])?["code"] as? String
    }
}

/// Real HTTP/1.1 over loopback, many connections at once.
let httpClient: HTTPClient = {
    var configuration = HTTPClient.Configuration()
    configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
    return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
}()

func post(
    port: Int, path: String = "/refunds", key: String?, body: String, client: String? = nil
) async throws -> Answer {
    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
    request.method = .POST
    request.headers.add(name: "Content-Type", value: "application/json")
    if let key { request.headers.add(name: "Idempotency-Key", value: key) }
    if let client { request.headers.add(name: "X-Client", value: client) }
    request.body = .bytes(ByteBuffer(string: body))
    let response = try await httpClient.execute(request, timeout: .seconds(30))
    let bytes = try await response.body.collect(upTo: 1 << 20)
    return Answer(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: String(buffer: bytes))
}

/// A fresh SQLite file in a temporary directory.
func temporarySQLitePath() throws -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("idem-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory.appendingPathComponent("keys.sqlite").path
}

enum StoreKind: String, CaseIterable, Sendable {
    case memory
    case sqlite

    func make() throws -> any IdempotencyStore {
        switch self {
        case .memory: InMemoryIdempotencyStore()
        case .sqlite: try SQLiteIdempotencyStore(path: temporarySQLitePath())
        }
    }
}
