import DedupVitalsCore
import Foundation
import GRDB
import Testing

/// Storage faults while the service runs: ingest answers 503 with Retry-After and acknowledges nothing it did not
/// commit, /readyz turns 503, and the service recovers by itself once the fault clears.
@Suite(.serialized) struct StorageFaultTests {
    static let one = #"{"service":"payments","operation":"refund","outcome":"miss"}"#

    /// A batch big enough to need fresh pages in the database and its WAL.
    static let big =
        "["
        + (0..<2_000).map { #"{"service":"bulk","operation":"op\#($0)","outcome":"hit","age_ms":\#($0)}"# }
        .joined(separator: ",") + "]"

    static func attempts(_ service: TestService) -> Int64 {
        service.service.state.withWindows { $0.allStates.reduce(0) { $0 + $1.totals.attempts } }
    }

    /// Attempts on disk, read from the closed database file.
    static func attemptsOnDisk(_ path: String) throws -> Int64 {
        try DatabaseQueue(path: path).read { db in
            try Int64.fetchOne(db, sql: "SELECT coalesce(sum(miss + hit + in_flight + mismatch), 0) FROM series") ?? -1
        }
    }

    /// Checks the answers during a fault: ingest 503 + Retry-After, /readyz 503, an idempotent request not remembered.
    static func expectUnavailable(_ service: TestService, body: String = one) async throws {
        let url = service.baseURL + "/v1/events"
        async let ingest = HTTP.post(url, body, headers: [("Idempotency-Key", "during-fault")])
        async let ready = HTTP.get(service.baseURL + "/readyz")
        let (refused, readiness) = try await (ingest, ready)
        #expect(refused.status == 503, "\(refused.text)")
        #expect(refused.errorCode == "storage_unavailable")
        #expect(Int(refused.headers.first(name: "Retry-After") ?? "") ?? 0 >= 1)
        #expect(readiness.status == 503)
        #expect(readiness.headers.first(name: "Retry-After") != nil)
        #expect(try await HTTP.get(service.baseURL + "/healthz").status == 200)
    }

    /// Checks recovery: /readyz 200 again (polling), the refused idempotent request now runs (it was not remembered).
    static func expectRecovered(_ service: TestService, body: String = one) async throws {
        let deadline = ContinuousClock.now + .seconds(15)
        var ready = try await HTTP.get(service.baseURL + "/readyz").status
        while ready != 200, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            ready = try await HTTP.get(service.baseURL + "/readyz").status
        }
        #expect(ready == 200)
        let retried = try await HTTP.post(service.baseURL + "/v1/events", body, headers: [("Idempotency-Key", "during-fault")])
        #expect(retried.status == 202)
        #expect(retried.headers.first(name: "Idempotent-Replayed") == nil, "the 503 was not stored as a response")
    }

    @Test(.enabled(if: Command.hasSQLite3))
    func aDatabaseLockedByAnotherProcess() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("db.sqlite")
        try await withService(database: path) { service in
            #expect(try await HTTP.post(service.baseURL + "/v1/events", Self.one).status == 202)
            let lock = try await SQLiteLockHolder(database: path)
            try await Self.expectUnavailable(service)
            #expect(Self.attempts(service) == 1)
            await lock.release()
            try await Self.expectRecovered(service)
            #expect(Self.attempts(service) == 2)
        }
        #expect(try Self.attemptsOnDisk(path) == 2)
    }

    @Test(.enabled(if: Command.canMakeImmutable))
    func readOnlyDatabaseFiles() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("db.sqlite")
        try await withService(database: path) { service in
            #expect(try await HTTP.post(service.baseURL + "/v1/events", Self.one).status == 202)
            let files = [path, path + "-wal"]
            #expect(Command.run(["chattr", "+i"] + files) == 0)
            defer { Command.run(["chattr", "-i"] + files) }
            try await Self.expectUnavailable(service)
            #expect(Self.attempts(service) == 1)
            #expect(Command.run(["chattr", "-i"] + files) == 0)
            try await Self.expectRecovered(service)
            #expect(Self.attempts(service) == 2)
        }
        #expect(try Self.attemptsOnDisk(path) == 2)
    }

    @Test(.enabled(if: Command.canMount))
    func aFullDisk() async throws {
        let dir = try TemporaryDirectory()
        let mount = dir.file("disk")
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        #expect(Command.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mount]) == 0)
        defer { Command.run(["umount", "-l", mount]) }
        let path = mount + "/db.sqlite"
        try await withService(database: path) { service in
            #expect(try await HTTP.post(service.baseURL + "/v1/events", Self.one).status == 202)
            let filler = mount + "/filler"
            Command.run(["dd", "if=/dev/zero", "of=\(filler)", "bs=64k"])
            try await Self.expectUnavailable(service, body: Self.big)
            #expect(Self.attempts(service) == 1)
            try FileManager.default.removeItem(atPath: filler)
            try await Self.expectRecovered(service, body: Self.big)
            #expect(Self.attempts(service) == 2_001)
        }
        #expect(try Self.attemptsOnDisk(path) == 2_001)
    }
}
