import Foundation
import GRDB
import Testing

/// Start-up refusals of `dedup-vitals serve`, through the built binary: exit 78 with one clear stderr line, and
/// a refused database file left byte for byte as it was.
@Suite struct BinaryTests {
    /// Runs `dedup-vitals serve ARGUMENTS` for `body`; the process is killed and reaped afterwards.
    static func serve<Result>(
        _ arguments: [String], environment: [String: String] = [:], _ body: (ChildProcess) async throws -> Result
    ) async throws -> Result {
        try await withProcess(["serve"] + arguments, environment: environment, body)
    }

    @Test func aNonLoopbackAddressWithoutTokensIsRefused() async throws {
        let dir = try TemporaryDirectory()
        try await Self.serve(["--listen", "0.0.0.0:0", "--db", dir.file("db.sqlite")]) { refused in
            #expect(await refused.exitCode() == 78)
            let lines = refused.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(refused.stderr)")
            #expect(refused.stderr.contains("--allow-unauthenticated"))
            #expect(!FileManager.default.fileExists(atPath: dir.file("db.sqlite")), "refused before opening the database")
        }

        try await Self.serve(["--listen", "0.0.0.0:0", "--db", dir.file("db.sqlite"), "--allow-unauthenticated"]) { allowed in
            let url = try await allowed.baseURL()
            #expect(try await HTTP.get(url + "/healthz").status == 200)
            #expect(await allowed.stop() == 0)
        }
    }

    @Test func aNonLoopbackAddressWithTokensIsAllowed() async throws {
        let dir = try TemporaryDirectory()
        let config = dir.file("config.yml")
        try "auth:\n  tokens:\n    - {name: ops, token_env: OPS_TOKEN}\n".write(toFile: config, atomically: true, encoding: .utf8)
        try await Self.serve(
            ["--config", config, "--listen", "0.0.0.0:0", "--db", dir.file("db.sqlite")], environment: ["OPS_TOKEN": "s3cret-ops"]
        ) { service in
            let url = try await service.baseURL()
            #expect(try await HTTP.get(url + "/v1/summary").status == 401)
            #expect(try await HTTP.get(url + "/v1/summary", headers: [("Authorization", "Bearer s3cret-ops")]).status == 200)
            #expect(await service.stop() == 0)
        }
    }

    @Test(arguments: [["OPS_TOKEN": ""], [:]])
    func aMissingTokenSecretIsAConfigError(_ environment: [String: String]) async throws {
        let dir = try TemporaryDirectory()
        let config = dir.file("config.yml")
        try "auth:\n  tokens:\n    - {name: ops, token_env: OPS_TOKEN}\n".write(toFile: config, atomically: true, encoding: .utf8)
        try await Self.serve(["--config", config, "--db", dir.file("db.sqlite")], environment: environment) { refused in
            #expect(await refused.exitCode() == 78)
            #expect(refused.stderr.contains("OPS_TOKEN"))
            #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
        }
    }

    @Test func tokensNeverReachTheLogs() async throws {
        let dir = try TemporaryDirectory()
        let config = dir.file("config.yml")
        try "auth:\n  tokens:\n    - {name: ops, token_env: OPS_TOKEN}\nmetrics_token_env: METRICS_TOKEN\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let secrets = ["OPS_TOKEN": "ops-9d8c7b6a", "METRICS_TOKEN": "metrics-1a2b3c"]
        try await Self.serve(
            ["--config", config, "--db", dir.file("db.sqlite"), "--listen", "127.0.0.1:0", "--log-level", "trace"],
            environment: secrets
        ) { service in
            let url = try await service.baseURL()
            let event = #"{"service":"payments","operation":"refund","outcome":"miss"}"#
            #expect(
                try await HTTP.post(url + "/v1/events", event, headers: [("Authorization", "Bearer ops-9d8c7b6a")]).status == 202)
            #expect(
                try await HTTP.post(url + "/v1/events", event, headers: [("Authorization", "Bearer ops-9d8c7b6b")]).status == 401)
            #expect(try await HTTP.get(url + "/metrics", headers: [("Authorization", "Bearer metrics-1a2b3c")]).status == 200)
            #expect(await service.stop() == 0)
            #expect(!service.stderr.isEmpty)
            for secret in secrets.values + ["ops-9d8c7b6b"] { #expect(!service.stderr.contains(secret)) }
        }
    }

    struct BadFile: Sendable, CustomTestStringConvertible {
        var name: String
        var message: String
        var testDescription: String { name }
    }

    static let badFiles: [BadFile] = [
        .init(name: "random bytes", message: "is not a dedup-vitals database"),
        .init(name: "text file", message: "is not a dedup-vitals database"),
        .init(name: "another application's SQLite database", message: "is not a dedup-vitals database"),
        .init(name: "a dedup-vitals database with damaged pages", message: "damaged"),
        .init(name: "a truncated dedup-vitals database", message: "cannot open database"),
    ]

    /// Writes the bad file of `kind` at `path`.
    static func make(_ kind: BadFile, at path: String, dir: TemporaryDirectory) async throws {
        switch kind.name {
        case "random bytes":
            var generator = SystemRandomNumberGenerator()
            try Data((0..<8192).map { _ in UInt8.random(in: 0...255, using: &generator) }).write(to: URL(fileURLWithPath: path))
        case "text file":
            try "listen: 127.0.0.1:9470\n".write(toFile: path, atomically: true, encoding: .utf8)
        case "another application's SQLite database":
            let queue = try DatabaseQueue(path: path)
            try await queue.write { db in
                try db.execute(
                    sql: "CREATE TABLE invoices(id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices(total) VALUES (9.5)")
            }
            try queue.close()
        default:
            let source = dir.file("good.sqlite")
            try await withService(database: source) { service throws in
                let body =
                    "[" + (0..<300).map { #"{"service":"s\#($0)","operation":"op","outcome":"miss"}"# }.joined(separator: ",")
                    + "]"
                #expect(try await HTTP.post(service.baseURL + "/v1/events", body).status == 202)
            }
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: source)))
            if kind.name.contains("truncated") {
                bytes = Array(bytes[..<(bytes.count / 2 + 100)])
            } else {
                for i in stride(from: 4096 * 2, to: bytes.count, by: 4096) {
                    bytes.replaceSubrange(i + 8..<i + 200, with: repeatElement(0xA5, count: 192))
                }
            }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }
    }

    @Test(arguments: badFiles)
    func aForeignOrDamagedDatabaseIsRefusedAndLeftUntouched(_ kind: BadFile) async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("db.sqlite")
        try await Self.make(kind, at: path, dir: dir)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        try await Self.serve(["--db", path, "--listen", "127.0.0.1:0"]) { refused in
            let code = await refused.exitCode()
            if code == nil { _ = await refused.stop() }
            #expect(code == 78)
            #expect(refused.stderr.contains(kind.message), "\(refused.stderr)")
            #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
            let after = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(before == after, "the file is byte for byte unchanged")
            #expect(
                !FileManager.default.fileExists(atPath: path + "-wal") && !FileManager.default.fileExists(atPath: path + "-shm"),
                "no files left next to it")
        }
    }
}
