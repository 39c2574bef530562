import Foundation
import Testing

@Suite("dedup-vitals top --once (the built executable)")
struct TopCommandTests {
    /// The `dedup-vitals` executable next to the test bundle.
    static var executable: URL? {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("dedup-vitals"),
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("dedup-vitals"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    private func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let binary = try #require(Self.executable, "build the executable first: swift build --build-tests")
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
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

    @Test("an unreachable service: one stderr line, nothing on stdout, exit 1")
    func unreachable() throws {
        let port = ClosedPort.make()
        let result = try run(["top", "--once", "--url", "http://127.0.0.1:\(port)"])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == "dedup-vitals: cannot reach http://127.0.0.1:\(port)/v1/summary: connection refused\n")
    }

    @Test("bad flags are usage errors (exit 64)")
    func usage() throws {
        #expect(try run(["top", "--refresh", "0"]).status == 64)
        #expect(try run(["top", "--url", "localhost"]).status == 64)
        #expect(try run(["simulate", "--scenario", "nope"]).status == 64)
        #expect(try run(["simulate", "--rate", "-1"]).status == 64)
    }

    @Test("simulate against a closed port exits 1 after its summary line")
    func simulateNothingAccepted() throws {
        let port = ClosedPort.make()
        let result = try run(["simulate", "--url", "http://127.0.0.1:\(port)", "--duration", "0.5", "--rate", "50"])
        #expect(result.status == 1)
        #expect(result.stdout.hasPrefix("simulate steady: sent "))
        #expect(result.stderr.hasPrefix("dedup-vitals: no events were accepted: cannot reach"))
    }
}
