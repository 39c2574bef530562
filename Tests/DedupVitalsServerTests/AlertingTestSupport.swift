import DedupVitalsCore
import DedupVitalsServer
import Foundation

extension TestService {
    /// Starts a service with the given alerting set-up.
    static func startAlerting(
        config: ServiceConfig, clock: @escaping @Sendable () -> Int64, options: AlertingOptions
    ) async throws -> TestService {
        // The test listener (a free port) stays: the configuration's default port may be taken.
        try await start(database: config.database, clock: clock, alertingOptions: options) {
            let listen = $0.listen
            $0 = config
            $0.listen = listen
        }
    }

    /// POSTs `count` events of one outcome for payments/refund (or the given series); expects 202.
    func post(_ outcome: String, count: Int, service: String = "payments", operation: String = "refund") async throws {
        let event = #"{"service":"\#(service)","operation":"\#(operation)","outcome":"\#(outcome)"}"#
        let reply = try await HTTP.post(
            baseURL + "/v1/events", "[" + Array(repeating: event, count: count).joined(separator: ",") + "]")
        guard reply.status == 202 else { throw TestFailure("ingest answered \(reply.status): \(reply.text)") }
    }

    func get(_ path: String) async throws -> (Int, String) {
        let reply = try await HTTP.get(baseURL + path)
        return (reply.status, reply.text)
    }

    func getJSON(_ path: String) async throws -> [String: Any] { try await HTTP.get(baseURL + path).json }

    /// The alerts of `GET /v1/alerts`.
    func alerts() async throws -> [[String: Any]] {
        try await getJSON("/v1/alerts")["alerts"] as? [[String: Any]] ?? []
    }
}

extension TemporaryDirectory {
    /// Writes a file into the directory; returns its path.
    func write(_ name: String, _ text: String) throws -> String {
        let path = file(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
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

/// Runs `promtool check metrics` on an exposition; returns its complaints (empty when clean).
enum PromtoolCheck {
    static func run(_ text: String) throws -> String {
        let result = try ChildProcess.run(["check", "metrics"], executable: "/usr/bin/promtool", input: text)
        return (result.stdout + result.stderr).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
