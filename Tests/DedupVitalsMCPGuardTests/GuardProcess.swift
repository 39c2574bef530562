import Foundation
import Testing

/// The built `dedup-vitals mcp-guard` in front of a small stdio JSON-RPC server (``stubServer``, plain Python 3), with
/// the test as the MCP client: lines written to the guard's stdin, its stdout and stderr read from files (see
/// ``ChildProcess`` for why files).
final class GuardProcess: @unchecked Sendable {
    let process = Process()
    let directory: TemporaryDirectory
    private let input = Pipe()
    var ledger: String { directory.file("ledger.txt") }
    var stdoutPath: String { directory.file("guard-\(tag).out") }
    var stderrPath: String { directory.file("guard-\(tag).err") }
    private let tag = UUID().uuidString

    /// Starts the guard with `config` (YAML) in front of the stub server (or `command` when given).
    init(config: String, in directory: TemporaryDirectory, command: [String]? = nil) throws {
        self.directory = directory
        try config.write(toFile: directory.file("guard.yml"), atomically: true, encoding: .utf8)
        try Self.stubServer.write(toFile: directory.file("stub.py"), atomically: true, encoding: .utf8)
        for path in [stdoutPath, stderrPath] where !FileManager.default.createFile(atPath: path, contents: nil) {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        process.executableURL = URL(fileURLWithPath: ServiceBinary.path)
        process.arguments =
            ["mcp-guard", "--config", directory.file("guard.yml"), "--"]
            + (command ?? ["python3", directory.file("stub.py"), ledger])
        process.environment = ChildProcess.baseEnvironment
        process.standardInput = input
        process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    func send(_ line: String) {
        input.fileHandleForWriting.write(Data((line + "\n").utf8))
    }

    /// Sends `tools/call` of `tool` with `arguments` (JSON text) as request `id`.
    func call(_ id: Int, _ tool: String, _ arguments: String) {
        send(#"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"\#(tool)","arguments":\#(arguments)}}"#)
    }

    /// Calls `append` as request 1, then again (spelled `again`, the same by default) as request 2 while the first
    /// runs.
    func callTwice(_ arguments: String, _ again: String? = nil) async throws {
        call(1, "append", arguments)
        try await Task.sleep(for: .milliseconds(150))
        call(2, "append", again ?? arguments)
    }

    /// Every line the guard wrote to its stdout so far, parsed.
    func answers() -> [[String: Any]] {
        let text = (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// The answer to request `id`; waits for it.
    func answer(_ id: Int, timeout: Duration = .seconds(20)) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let found = answers().first(where: { ($0["id"] as? Int) == id }) { return found }
            guard ContinuousClock.now < deadline, process.isRunning else {
                throw TestFailure("no answer to \(id): \(answers()), stderr: \(stderr)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    var ledgerLines: [String] {
        ((try? String(contentsOfFile: ledger, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// Closes the guard's stdin and waits for its exit status.
    func finish(timeout: Duration = .seconds(20)) async throws -> Int32 {
        try? input.fileHandleForWriting.close()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { throw TestFailure("the guard did not exit: \(stderr)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    /// Runs `body` with a started guard, then ends it, also when `body` throws.
    static func with<Result>(
        config: String, in directory: TemporaryDirectory, command: [String]? = nil,
        _ body: (GuardProcess) async throws -> Result
    ) async throws -> Result {
        let guardProcess = try GuardProcess(config: config, in: directory, command: command)
        do {
            let result = try await body(guardProcess)
            _ = try await guardProcess.finish()
            return result
        } catch {
            kill(guardProcess.process.processIdentifier, SIGKILL)
            throw error
        }
    }

    /// The result's `_meta` entry of the guard, when the guard answered.
    static func guardMeta(_ answer: [String: Any]) -> [String: Any]? {
        ((answer["result"] as? [String: Any])?["_meta"] as? [String: Any])?["dedup-vitals/mcp-guard"] as? [String: Any]
    }

    static func text(_ answer: [String: Any]) -> String? {
        (((answer["result"] as? [String: Any])?["content"] as? [[String: Any]])?.first?["text"]) as? String
    }

    static func isError(_ answer: [String: Any]) -> Bool {
        (answer["result"] as? [String: Any])?["isError"] as? Bool == true
    }

    /// A stdio JSON-RPC server: `append` (sleeps `delay` seconds, appends `text` to the ledger), `read` (read-only),
    /// `fail` (a tool error). Requests are handled one thread each, so a slow call does not hold the others.
    static let stubServer = #"""
        import json, sys, threading, time
        ledger = sys.argv[1]
        lock = threading.Lock()
        def answer(message):
            with lock:
                sys.stdout.write(json.dumps(message) + "\n")
                sys.stdout.flush()
        def handle(message):
            method, id = message.get("method"), message.get("id")
            if id is None:
                return
            if method == "tools/list":
                answer({"jsonrpc": "2.0", "id": id, "result": {"tools": [
                    {"name": "append", "inputSchema": {"type": "object"}},
                    {"name": "read", "inputSchema": {"type": "object"}, "annotations": {"readOnlyHint": True}},
                    {"name": "fail", "inputSchema": {"type": "object"}}]}})
            elif method == "tools/call":
                name, arguments = message["params"]["name"], message["params"].get("arguments", {})
                if name == "fail":
                    answer({"jsonrpc": "2.0", "id": id, "result": {"content": [{"type": "text", "text": "no"}], "isError": True}})
                    return
                if name == "append":
                    time.sleep(arguments.get("delay", 0))
                    with open(ledger, "a") as f:
                        f.write(arguments["text"] + "\n")
                answer({"jsonrpc": "2.0", "id": id, "result": {"content": [{"type": "text", "text": name + " " + str(time.time())}]}})
            else:
                answer({"jsonrpc": "2.0", "id": id, "result": {}})
        for line in sys.stdin:
            threading.Thread(target=handle, args=(json.loads(line),)).start()
        """#
}
