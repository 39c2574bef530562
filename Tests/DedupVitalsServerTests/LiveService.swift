import AsyncHTTPClient
import DedupVitalsCore
import DedupVitalsServer
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A clock the test moves by hand (milliseconds since the epoch).
final class TestClock: Sendable {
    private let now: Mutex<Int64>
    init(startMs: Int64 = DedupVitalsService.systemClock()) { now = Mutex(startMs) }
    func callAsFunction() -> Int64 { now.withLock { $0 } }
    func advance(by duration: Duration) {
        let (seconds, attoseconds) = duration.components
        now.withLock { $0 += seconds * 1000 + attoseconds / 1_000_000_000_000_000 }
    }
    var function: @Sendable () -> Int64 { { self() } }
}

/// A temporary folder removed at deinit.
final class TempDirectory: Sendable {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "dedup-vitals-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func file(_ name: String) -> String { path + "/" + name }
    func write(_ name: String, _ text: String) throws -> String {
        let file = file(name)
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// The real service on a loopback port (port 0), with its background services, in this process.
final class LiveService: Sendable {
    let service: DedupVitalsService
    let baseURL: String
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    private init(service: DedupVitalsService, baseURL: String, group: ServiceGroup, task: Task<Void, any Error>) {
        self.service = service
        self.baseURL = baseURL
        self.group = group
        self.task = task
    }

    static let quietLogger = Logger(label: "dedup-vitals-test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func start(config: ServiceConfig, clock: @escaping @Sendable () -> Int64, options: AlertingOptions) async throws -> LiveService {
        var config = config
        config.listen = ServiceConfig.ListenAddress(host: "127.0.0.1", port: 0)
        let service = try DedupVitalsService(config: config, logger: quietLogger, clock: clock, alertingOptions: options)
        let (addresses, continuation) = AsyncStream.makeStream(of: String.self)
        let app = service.makeApplication { address in continuation.yield(address) }
        let group = ServiceGroup(configuration: .init(services: [app], logger: quietLogger))
        let task = Task { try await group.run() }
        var iterator = addresses.makeAsyncIterator()
        let address = await iterator.next() ?? ""
        return LiveService(service: service, baseURL: "http://\(address)", group: group, task: task)
    }

    /// Graceful shutdown; returns once the database is closed.
    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }

    /// POSTs events (JSON array) and returns the status.
    @discardableResult
    func post(events: [[String: Any]]) async throws -> Int {
        let body = try JSONSerialization.data(withJSONObject: events)
        var request = HTTPClientRequest(url: baseURL + "/v1/events")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 20)
        return Int(response.status.code)
    }

    /// `count` events of one outcome for payments/refund (or the given series).
    func post(_ outcome: String, count: Int, service: String = "payments", operation: String = "refund") async throws {
        let events: [[String: Any]] = (0..<count).map { _ in ["service": service, "operation": operation, "outcome": outcome] }
        let status = try await post(events: events)
        precondition(status == 202, "ingest answered \(status)")
    }

    func get(_ path: String) async throws -> (Int, String) {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: baseURL + path), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 8 << 20)
        return (Int(response.status.code), String(buffer: body))
    }

    func getJSON(_ path: String) async throws -> [String: Any] {
        let (_, text) = try await get(path)
        return (try JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    /// The alerts of `GET /v1/alerts`.
    func alerts() async throws -> [[String: Any]] {
        try await getJSON("/v1/alerts")["alerts"] as? [[String: Any]] ?? []
    }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}
