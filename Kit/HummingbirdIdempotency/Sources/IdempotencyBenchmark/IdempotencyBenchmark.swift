// Per-request overhead of IdempotencyMiddleware (in-memory and SQLite store) over real HTTP on loopback, and the
// cost of DecisionReporter.record. Prints one table; build with -c release:
//
//   swift run -c release --package-path Kit/HummingbirdIdempotency idempotency-benchmark [requests] [records]
import AsyncHTTPClient
import DedupVitalsReporter
import Foundation
import Hummingbird
import HummingbirdIdempotency
import Logging
import NIOCore
import Synchronization

@main
struct IdempotencyBenchmark {
    static func main() async throws {
        let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
        let requests = arguments.first ?? 5000
        let records = arguments.dropFirst().first ?? 1_000_000

        /// Mean time per call of `body` over `count` calls, in microseconds.
        func measure(_ count: Int, _ body: (Int) async throws -> Void) async rethrows -> Double {
            let start = ContinuousClock.now
            for i in 0..<count { try await body(i) }
            let elapsed = ContinuousClock.now - start
            return Double(elapsed.components.seconds) * 1e6 / Double(count) + Double(elapsed.components.attoseconds) / 1e12 / Double(count)
        }

        // MARK: record()

        var reporterConfiguration = ReporterConfiguration(endpoint: "http://127.0.0.1:9")
        reporterConfiguration.bufferCapacity = records
        let accepting = DecisionReporter(configuration: reporterConfiguration)
        let event = DecisionEvent(service: "payments", operation: "refund", outcome: .miss, key: "order-42", payload: "fp", client: "web")
        let recordAccepted = await measure(records) { _ in accepting.record(event) }
        let recordDropped = await measure(records) { _ in accepting.record(event) }  // the buffer is full now
        let fieldsReporter = DecisionReporter(configuration: reporterConfiguration)
        let recordFields = await measure(records) { i in
            fieldsReporter.record(service: "payments", operation: "refund", outcome: .hit, key: "order-\(i)", ageMs: 1200)
        }

        // MARK: middleware over HTTP

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("idem-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let sqlite = try SQLiteIdempotencyStore(path: directory.appendingPathComponent("keys.sqlite").path)
        var sinkConfiguration = ReporterConfiguration(endpoint: "http://127.0.0.1:9")
        sinkConfiguration.bufferCapacity = 8 * requests + 1024
        let sink = DecisionReporter(configuration: sinkConfiguration)

        let router = Router()
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { _, _ in
            Response(status: .created, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"refund":"r-1","amount":1000}"#)))
        }
        router.post("plain", use: handler)
        router.group("memory")
            .add(middleware: IdempotencyMiddleware(service: "bench", operation: "memory", store: InMemoryIdempotencyStore(), recorder: sink))
            .post(use: handler)
        router.group("sqlite")
            .add(middleware: IdempotencyMiddleware(service: "bench", operation: "sqlite", store: sqlite, recorder: sink))
            .post(use: handler)

        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        let port = ManagedAtomicPort()
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: { port.set($0.localAddress?.port ?? 0) },
            logger: logger)
        let server = Task { try await app.runService(gracefulShutdownSignals: []) }
        while port.value == 0 { try await Task.sleep(for: .milliseconds(10)) }

        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let body = ByteBuffer(string: #"{"order":"o-42","amount":1000,"reason":"duplicate charge"}"#)
        func post(_ path: String, key: String?) async throws {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port.value)/\(path)")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            if let key { request.headers.add(name: "Idempotency-Key", value: key) }
            request.body = .bytes(body)
            let response = try await client.execute(request, timeout: .seconds(10))
            _ = try await response.body.collect(upTo: 1 << 16)
            precondition(response.status.code == 201)
        }

        _ = try await measure(500) { _ in try await post("plain", key: nil) }  // warm-up: connection, allocator
        let plain = try await measure(requests) { _ in try await post("plain", key: nil) }
        let memoryMiss = try await measure(requests) { i in try await post("memory", key: "m-\(i)") }
        let memoryHit = try await measure(requests) { _ in try await post("memory", key: "m-0") }
        let sqliteMiss = try await measure(requests) { i in try await post("sqlite", key: "s-\(i)") }
        let sqliteHit = try await measure(requests) { _ in try await post("sqlite", key: "s-0") }
        let plainAgain = try await measure(requests) { _ in try await post("plain", key: nil) }
        try await client.shutdown()
        server.cancel()

        func row(_ name: String, _ micros: Double, against base: Double) -> String {
            name.padding(toLength: 34, withPad: " ", startingAt: 0) + String(format: "%9.1f us  %+8.1f us  x%.2f", micros, micros - base, micros / base)
        }
        let base = (plain + plainAgain) / 2
        print("HTTP POST over loopback, one keep-alive connection, \(requests) requests each")
        print(row("no middleware (mean of 2 runs)", base, against: base))
        print(row("in-memory store, new key", memoryMiss, against: base))
        print(row("in-memory store, replay", memoryHit, against: base))
        print(row("SQLite store, new key", sqliteMiss, against: base))
        print(row("SQLite store, replay", sqliteHit, against: base))
        print(String(format: "no-middleware runs: %.1f us and %.1f us (noise between identical runs)", plain, plainAgain))
        print("")
        print("DecisionReporter.record, \(records) calls each, one thread")
        print(String(format: "  accepted into the buffer      %7.0f ns", recordAccepted * 1000))
        print(String(format: "  dropped (buffer full)         %7.0f ns", recordDropped * 1000))
        print(String(format: "  from fields, with a new key    %7.0f ns (includes formatting the key)", recordFields * 1000))
    }
}

/// The server's port, set once it listens.
final class ManagedAtomicPort: Sendable {
    private let port = Mutex(0)
    func set(_ value: Int) { port.withLock { $0 = value } }
    var value: Int { port.withLock { $0 } }
}
