import AsyncHTTPClient
import Foundation
import NIOCore

struct TestSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A real dedup-vitals process (`serve`) on a loopback port with a database in a temporary directory. The binary
/// comes from `DEDUP_VITALS_BIN`; without it the live tests fail with that message instead of passing unseen.
final class LiveService: @unchecked Sendable {
    let binary: String
    let directory: URL
    private(set) var port = 0
    private var process: Process?

    init() throws {
        guard let binary = ProcessInfo.processInfo.environment["DEDUP_VITALS_BIN"], !binary.isEmpty else {
            throw TestSetupError(
                "DEDUP_VITALS_BIN is not set: the reporter's live tests need a dedup-vitals binary, e.g. "
                    + "DEDUP_VITALS_BIN=\"$(swift build --show-bin-path)/dedup-vitals\" in the repository root")
        }
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw TestSetupError("DEDUP_VITALS_BIN=\(binary) is not an executable file")
        }
        self.binary = binary
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("dv-reporter-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit {
        process?.terminate()
        try? FileManager.default.removeItem(at: directory)
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Starts the service (on its previous port after a stop) and waits until it listens.
    func start() async throws {
        let log = directory.appendingPathComponent("service-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let output = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "serve", "--listen", "127.0.0.1:\(port)", "--db", directory.appendingPathComponent("dv.sqlite").path,
        ]
        process.standardOutput = output
        process.standardError = output
        try process.run()
        self.process = process
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: "address=127.0.0.1:") {
                let digits = text[range.upperBound...].prefix { $0.isNumber }
                port = Int(digits) ?? 0
                return
            }
            guard process.isRunning else { throw TestSetupError("dedup-vitals exited at start: \(text)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestSetupError("dedup-vitals did not report its address within 30 s")
    }

    /// SIGTERM and wait: a graceful stop (everything acknowledged is committed).
    func stop() async {
        guard let process else { return }
        process.terminate()
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        self.process = nil
    }

    /// `dedup_events_total` of one service from `/metrics`, by outcome (outcomes not seen left out).
    func eventCounts(service: String) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for line in try await metricsText().split(separator: "\n") where line.hasPrefix("dedup_events_total{") {
            guard line.contains("service=\"\(service)\""), let outcome = Self.label("outcome", in: line),
                let value = line.split(separator: " ").last.flatMap({ Double($0) })
            else { continue }
            if value > 0 { counts[outcome, default: 0] += Int(value) }
        }
        return counts
    }

    /// `dedup_ingest_events_total{result=...}` from `/metrics`.
    func ingestEvents(result: String) async throws -> Int {
        for line in try await metricsText().split(separator: "\n")
        where line.hasPrefix("dedup_ingest_events_total{") && line.contains("result=\"\(result)\"") {
            return Int(line.split(separator: " ").last.flatMap { Double($0) } ?? 0)
        }
        return 0
    }

    private func metricsText() async throws -> String {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: baseURL + "/metrics"), timeout: .seconds(10))
        return String(buffer: try await response.body.collect(upTo: 16 << 20))
    }

    private static func label(_ name: String, in line: Substring) -> String? {
        guard let start = line.range(of: "\(name)=\"") else { return nil }
        return String(line[start.upperBound...].prefix { $0 != "\"" })
    }
}
