import Foundation

/// The built `dedup-vitals` executable run as a child process (for crash, signal and exit-code tests).
final class ServiceProcess: @unchecked Sendable {
    let process: Process
    let logPath: String
    private(set) var baseURL = ""

    /// The executable next to the test bundle (`swift build --build-tests` builds both).
    static var executable: String {
        if let override = ProcessInfo.processInfo.environment["DEDUP_VITALS_BIN"] { return override }
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0])
        var directory = testBinary.deletingLastPathComponent()
        // The XCTest bundle path is .../debug/dedup-vitalsPackageTests.xctest (a file on Linux).
        if directory.lastPathComponent.hasSuffix(".xctest") { directory = directory.deletingLastPathComponent() }
        let candidate = directory.appendingPathComponent("dedup-vitals").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/dedup-vitals").path
    }

    /// Runs a command to completion and returns its exit code and stderr.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    /// Starts `serve` on a free loopback port and waits until it listens.
    init(database: String, logPath: String, extraArguments: [String] = [], environment: [String: String] = [:]) async throws {
        self.logPath = logPath
        guard FileManager.default.createFile(atPath: logPath, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: logPath])
        }
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = ["serve", "--listen", "127.0.0.1:0", "--db", database] + extraArguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let logHandle = FileHandle(forWritingAtPath: logPath)!
        process.standardOutput = logHandle
        process.standardError = logHandle
        try process.run()
        for _ in 0..<300 {
            let text = log()
            if let range = text.range(of: #"address=127\.0\.0\.1:\d+"#, options: .regularExpression) {
                baseURL = "http://" + text[range].dropFirst("address=".count)
                return
            }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        process.terminate()
        throw TestFailure("service did not start: \(self.log())")
    }

    func log() -> String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    func kill(_ signal: Int32) {
        Foundation.kill(process.processIdentifier, signal)
    }

    /// Waits for the process to exit and returns its status.
    func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { throw TestFailure("process did not exit") }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }
}
