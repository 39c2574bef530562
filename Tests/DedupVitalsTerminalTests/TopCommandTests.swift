import Foundation
import Testing

@Suite("dedup-vitals top --once (the built executable)")
struct TopCommandTests {
    private func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try ChildProcess.run(arguments)
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
