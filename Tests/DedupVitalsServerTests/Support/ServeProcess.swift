import Foundation

/// `dedup-vitals` run as a child process (the binary built next to the tests), for behaviour only the command shows:
/// exit codes, stderr, start-up refusals.
final class ServeProcess {
    let process: Process
    /// The child's stderr goes to this file (a pipe's end-of-file is not reliably reported by Foundation on Linux).
    private let stderrPath = NSTemporaryDirectory() + "dedup-vitals-stderr-" + UUID().uuidString

    /// The built executable.
    static var executable: URL {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/dedup-vitals")
    }

    /// Starts `dedup-vitals ARGUMENTS` with `environment` added to a minimal one.
    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin"].merging(environment) { $1 }
        guard FileManager.default.createFile(atPath: stderrPath, contents: nil),
              let handle = FileHandle(forWritingAtPath: stderrPath) else { throw TestFailure("cannot create \(stderrPath)") }
        process.standardError = handle
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        try handle.close()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(atPath: stderrPath)
    }

    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Waits for the process to exit (at most `timeout`); its exit code, or nil.
    func exitCode(within timeout: Duration = .seconds(20)) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    /// The `address=HOST:PORT` the service logged once listening, as a base URL on 127.0.0.1.
    func baseURL(within timeout: Duration = .seconds(20)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let range = stderr.range(of: #"address=[^ \n]*:[0-9]+"#, options: .regularExpression) {
                let port = stderr[range].split(separator: ":").last!
                return "http://127.0.0.1:\(port)"
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("the service did not start: \(stderr)")
    }

    /// SIGTERM, then waits for the exit.
    func stop() async -> Int32? {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        return await exitCode()
    }
}
