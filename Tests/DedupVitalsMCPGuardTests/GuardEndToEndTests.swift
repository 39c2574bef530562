import DedupVitalsMCPGuard
import Foundation
import Testing

/// The built `dedup-vitals mcp-guard` in front of a real child process (``GuardProcess/stubServer``), with a real
/// dedup-vitals service where decisions are reported. The Python MCP SDK runs in .ci/mcp-guard.sh.
@Suite("mcp-guard end to end", .serialized)
struct GuardEndToEndTests {
    static func config(_ directory: TemporaryDirectory, extra: String = "") -> String {
        "service: stub\ndatabase: \(directory.file("guard.sqlite"))\n" + extra
    }

    @Test("a repeat while the first call runs waits for it and gets its result; the tool ran once")
    func waitsForTheFirstCall() async throws {
        let directory = try TemporaryDirectory()
        try await GuardProcess.with(config: Self.config(directory), in: directory) { guardProcess in
            try await guardProcess.callTwice(#"{"text":"slow","delay":1}"#, #"{"delay":1.0,"text":"slow"}"#)
            let first = try await guardProcess.answer(1)
            let second = try await guardProcess.answer(2)
            #expect(GuardProcess.text(first) == GuardProcess.text(second))
            #expect(GuardProcess.guardMeta(first) == nil)
            #expect(GuardProcess.guardMeta(second)?["replayed"] as? Bool == true)
            #expect(guardProcess.ledgerLines == ["slow"])
        }
    }

    @Test("a repeat that waits longer than in_flight_wait gets an in_flight tool error, the first call its result")
    func inFlightDeadline() async throws {
        let directory = try TemporaryDirectory()
        try await GuardProcess.with(config: Self.config(directory, extra: "in_flight_wait: 200ms\n"), in: directory) {
            guardProcess in
            try await guardProcess.callTwice(#"{"text":"slower","delay":1.5}"#)
            let second = try await guardProcess.answer(2)
            #expect(GuardProcess.isError(second))
            #expect(GuardProcess.guardMeta(second)?["outcome"] as? String == "in_flight")
            #expect(GuardProcess.text(second)?.contains("still running") == true)
            let first = try await guardProcess.answer(1)
            #expect(!GuardProcess.isError(first))
            #expect(guardProcess.ledgerLines == ["slower"])
        }
    }

    @Test("tool errors are not stored; read-only tools are not guarded; unlisted tools are")
    func whatIsGuarded() async throws {
        let directory = try TemporaryDirectory()
        try await GuardProcess.with(config: Self.config(directory), in: directory) { guardProcess in
            guardProcess.send(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
            _ = try await guardProcess.answer(1)
            guardProcess.call(2, "fail", "{}")
            guardProcess.call(3, "fail", "{}")
            guardProcess.call(4, "read", "{}")
            guardProcess.call(5, "read", "{}")
            let answers = try await [2, 3, 4, 5].asyncMap { try await guardProcess.answer($0) }
            #expect(answers.allSatisfy { GuardProcess.guardMeta($0) == nil })
            #expect(GuardProcess.text(answers[2]) != GuardProcess.text(answers[3]))
        }
    }

    @Test("a cancelled first call ends without an outcome; its waiting repeat is told, the next call executes")
    func cancellation() async throws {
        let directory = try TemporaryDirectory()
        try await GuardProcess.with(config: Self.config(directory), in: directory) { guardProcess in
            try await guardProcess.callTwice(#"{"text":"c","delay":1}"#)
            try await Task.sleep(for: .milliseconds(100))
            guardProcess.send(#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}"#)
            let waiter = try await guardProcess.answer(2)
            #expect(GuardProcess.text(waiter)?.contains("cancelled") == true)
            // The stub does not honour cancellation: its late answer to 1 is relayed, and stored nowhere.
            _ = try await guardProcess.answer(1)
            guardProcess.call(3, "append", #"{"text":"c"}"#)
            #expect(GuardProcess.guardMeta(try await guardProcess.answer(3)) == nil)
        }
    }

    @Test("decisions reach a live dedup-vitals with the client's name; an unreachable one costs nothing but reports")
    func reporting() async throws {
        let directory = try TemporaryDirectory()
        try await withService(database: directory.file("dv.sqlite")) { service in
            let config = Self.config(directory, extra: "report:\n  url: \(service.baseURL)\n  flush_interval: 100ms\n")
            try await GuardProcess.with(config: config, in: directory) { guardProcess in
                guardProcess.send(
                    #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"Test Agent"}}}"#
                )
                _ = try await guardProcess.answer(1)
                guardProcess.call(2, "append", #"{"text":"r"}"#)
                _ = try await guardProcess.answer(2)
                guardProcess.call(3, "append", #"{"text":"r"}"#)
                _ = try await guardProcess.answer(3)
            }
            let lookup = try await HTTP.get(
                service.baseURL + "/v1/keys/lookup?service=stub&operation=append&key="
                    + #"append:{"text":"r"}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
            #expect(lookup.status == 200)
            let counts = lookup.json["counts"] as? [String: Int]
            #expect(counts?["miss"] == 1 && counts?["hit"] == 1 && counts?["completed"] == 1)
            let summary = try await HTTP.get(service.baseURL + "/v1/summary")
            let series = (summary.json["series"] as? [[String: Any]])?.first { $0["operation"] as? String == "append" }
            let clients = (series?["top_clients"] as? [[String: Any]])?.compactMap { $0["client"] as? String }
            #expect(clients == ["Test_Agent"])
        }

        // Nothing listens: calls are answered as fast as ever; the buffer of 2 drops the rest and says so.
        let config = Self.config(directory, extra: "report:\n  url: http://127.0.0.1:9\n  buffer: 2\n")
        try await GuardProcess.with(config: config, in: directory) { guardProcess in
            let started = ContinuousClock.now
            for id in 10..<20 { guardProcess.call(id, "append", #"{"text":"u\#(id)"}"#) }
            for id in 10..<20 { _ = try await guardProcess.answer(id) }
            #expect(started.duration(to: .now) < .seconds(5))
            #expect(try await guardProcess.finish() == 0)
            #expect(guardProcess.stderr.contains("report buffer full"))
            #expect(guardProcess.stderr.contains("decisions were not reported"))
        }
    }

    @Test("the child's exit status is the guard's; a bad configuration is one line and exit 78")
    func exitStatus() async throws {
        let directory = try TemporaryDirectory()
        let status = try await GuardProcess.with(
            config: Self.config(directory), in: directory, command: ["sh", "-c", "cat >/dev/null; exit 3"]
        ) { try await $0.finish() }
        #expect(status == 3)
        try "tools:\n  t:\n    guard: perhaps\n".write(toFile: directory.file("bad.yml"), atomically: true, encoding: .utf8)
        let run = try ChildProcess.run(["mcp-guard", "--config", directory.file("bad.yml"), "--", "true"])
        #expect(run.status == 78)
        #expect(run.stderr == "dedup-vitals: \(directory.file("bad.yml")):3: tools.t.guard must be true or false\n")
        #expect(run.stdout.isEmpty)
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
