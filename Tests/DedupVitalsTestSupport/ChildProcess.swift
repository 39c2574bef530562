import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A child process for tests: the built `dedup-vitals` (crash, signal, exit-code and start-up tests) or a system
/// command (`sqlite3`, `chattr`, `promtool`). The one runner of the test kit.
///
/// A started process writes stdout and stderr to one log file (a pipe's end-of-file is not reliably reported by
/// Foundation on Linux, and a file never fills up and blocks the child). It gets a minimal environment (`PATH`) plus
/// what the test passes, so that variables of the developer's shell do not change what a test sees. Prefer
/// ``withProcess(_:executable:environment:logPath:_:)``, which kills and reaps the child whatever happens.
public final class ChildProcess: @unchecked Sendable {
    public let process: Process
    /// Where stdout and stderr go.
    public let logPath: String
    /// The service's `http://127.0.0.1:PORT`, for a process started with ``init(database:logPath:extraArguments:environment:)``.
    public private(set) var baseURL = ""
    private let ownsLog: Bool
    private let input: Pipe?

    /// Starts `executable ARGUMENTS` (by default the built `dedup-vitals`) with `environment` added to a minimal one.
    /// - Parameters:
    ///   - logPath: where the output goes; a temporary file removed at deinit when nil.
    ///   - standardInput: whether the test writes to the child's stdin (``write(_:)``); else it reads /dev/null.
    public init(
        _ arguments: [String], executable: String = ServiceBinary.path, environment: [String: String] = [:],
        logPath: String? = nil, standardInput: Bool = false
    ) throws {
        self.logPath = logPath ?? NSTemporaryDirectory() + "dedup-vitals-log-" + UUID().uuidString
        ownsLog = logPath == nil
        guard FileManager.default.createFile(atPath: self.logPath, contents: nil),
            let log = FileHandle(forWritingAtPath: self.logPath)
        else { throw TestFailure("cannot create \(self.logPath)") }
        defer { try? log.close() }
        input = standardInput ? Pipe() : nil
        process = try Self.launch(
            executable, arguments, environment: environment, stdout: log, stderr: log,
            stdin: input.map { $0 as Any } ?? FileHandle.nullDevice)
    }

    /// Starts `dedup-vitals serve` on a free loopback port with the database at `database` and waits until it listens
    /// (``baseURL`` is then set); a process that does not get there is killed and the error says what it logged.
    public convenience init(
        database: String, logPath: String? = nil, extraArguments: [String] = [], environment: [String: String] = [:]
    ) async throws {
        try self.init(
            ["serve", "--listen", "127.0.0.1:0", "--db", database] + extraArguments, environment: environment, logPath: logPath)
        do {
            baseURL = try await listeningURL(within: .seconds(20))
        } catch {
            await killAndReap()
            throw error
        }
    }

    deinit {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        if ownsLog { try? FileManager.default.removeItem(atPath: logPath) }
    }

    public var isRunning: Bool { process.isRunning }

    /// What the process wrote so far (stdout and stderr).
    public func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// The output so far; the name tests of start-up refusals read (the service logs to stderr).
    public var stderr: String { log() }

    /// Sends `signal` if the process still runs.
    public func kill(_ signal: Int32) {
        if process.isRunning { Foundation.kill(process.processIdentifier, signal) }
    }

    /// Writes `text` to the child's stdin (started with `standardInput: true`).
    public func write(_ text: String) {
        input?.fileHandleForWriting.write(Data(text.utf8))
    }

    /// Closes the child's stdin: end of input.
    public func closeInput() {
        try? input?.fileHandleForWriting.close()
    }

    /// Waits for the process to exit; its exit status. Throws when it still runs after `timeout`.
    public func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                throw TestFailure("the process did not exit within \(timeout): \(log())")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    /// Waits for the process to exit (at most `timeout`); its exit status, or nil when it still runs.
    public func exitCode(within timeout: Duration = .seconds(20)) async -> Int32? {
        try? await waitForExit(timeout: timeout)
    }

    /// SIGTERM, then waits for the exit; the exit status, or nil when the process did not exit in time.
    public func stop() async -> Int32? {
        kill(SIGTERM)
        return await exitCode()
    }

    /// SIGKILL if still running, then waits until Foundation has reaped the child: what a scope does at its end.
    public func killAndReap() async {
        closeInput()
        kill(SIGKILL)
        let deadline = ContinuousClock.now + .seconds(10)
        while process.isRunning, ContinuousClock.now < deadline {
            // Also when the task is cancelled: the child must not outlive the test.
            if (try? await Task.sleep(for: .milliseconds(10))) == nil { usleep(10_000) }
        }
    }

    /// Waits until the log has a match of the regular expression `pattern`; the matched text. Throws with the log when
    /// the process exits first or `timeout` passes.
    public func waitForLog(matching pattern: String, timeout: Duration = .seconds(20)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            // Read the log before checking the process: a line written just before the exit still counts.
            let running = process.isRunning
            let text = log()
            if let range = text.range(of: pattern, options: .regularExpression) { return String(text[range]) }
            guard running, ContinuousClock.now < deadline else {
                throw TestFailure("no \(pattern) in the log (\(running ? "still running" : "exited")): \(text)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The `address=HOST:PORT` the service logged once listening, as a base URL on 127.0.0.1.
    public func baseURL(within timeout: Duration = .seconds(20)) async throws -> String {
        try await listeningURL(within: timeout)
    }

    private func listeningURL(within timeout: Duration) async throws -> String {
        let address = try await waitForLog(matching: #"address=[^ \n]*:[0-9]+"#, timeout: timeout)
        return "http://127.0.0.1:" + (address.split(separator: ":").last ?? "")
    }
}

extension ChildProcess {
    /// The environment every child starts from: the test's `PATH`, nothing else.
    public static var baseEnvironment: [String: String] {
        ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
    }

    /// The built executable (``ServiceBinary/path``).
    public static var executable: String { ServiceBinary.path }

    /// Runs `executable ARGUMENTS` (by default the built `dedup-vitals`) to completion, with `input` on its stdin;
    /// its exit status and output. Throws when it runs longer than `timeout` (it is then killed).
    @discardableResult
    public static func run(
        _ arguments: [String], executable: String = ServiceBinary.path, environment: [String: String] = [:],
        input: String? = nil, timeout: Duration = .seconds(60)
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let stem = NSTemporaryDirectory() + "dedup-vitals-run-" + UUID().uuidString
        let paths = [stem + ".out", stem + ".err"]
        defer { for path in paths { try? FileManager.default.removeItem(atPath: path) } }
        let handles = try paths.map { path in
            guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path)
            else {
                throw TestFailure("cannot create \(path)")
            }
            return handle
        }
        defer { for handle in handles { try? handle.close() } }
        let stdin = input == nil ? nil : Pipe()
        let process = try launch(
            executable, arguments, environment: environment, stdout: handles[0], stderr: handles[1],
            stdin: stdin.map { $0 as Any } ?? FileHandle.nullDevice)
        if let stdin, let input {
            // The child's output goes to files, so it never blocks while this writes.
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try? stdin.fileHandleForWriting.close()
        }
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                Foundation.kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                throw TestFailure("\(executable) \(arguments.joined(separator: " ")) did not finish within \(timeout)")
            }
            usleep(2_000)
        }
        let output = paths.map { (try? String(contentsOfFile: $0, encoding: .utf8)) ?? "" }
        return (process.terminationStatus, output[0], output[1])
    }

    /// Runs a system command (the first argument looked up on `PATH`) to completion.
    @discardableResult
    public static func command(
        _ arguments: [String], input: String? = nil, timeout: Duration = .seconds(60)
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        try run(arguments, executable: "/usr/bin/env", input: input, timeout: timeout)
    }

    /// The one place a child is set up and started.
    private static func launch(
        _ executable: String, _ arguments: [String], environment: [String: String], stdout: FileHandle, stderr: FileHandle,
        stdin: Any
    ) throws -> Process {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw TestFailure(
                "no executable at \(executable): build it first (swift build --build-tests) or set DEDUP_VITALS_BIN")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = baseEnvironment.merging(environment) { $1 }
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = stdin
        try process.run()
        return process
    }
}
