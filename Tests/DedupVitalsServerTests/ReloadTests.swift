import DedupVitalsCore
import Foundation
import Testing

/// Reloading the configuration of a running `dedup-vitals serve` process: SIGHUP and `POST /-/reload`, as an
/// operator does it.
@Suite("Reload", .serialized)
struct ReloadTests {
    static let secret = "whsec_" + Base64.encode(Array("reload-signing-key-0123456789abcd".utf8))

    /// A rule that fires at once when more than half of 4+ attempts in a minute are duplicates.
    static func spikeRule(_ name: String) -> String {
        """
          - alert: \(name)
            kind: duplicate_ratio
            window: 1m
            above: 0.5
            min_attempts: 4
            labels: {severity: warning}
            annotations: {summary: "spike"}

        """
    }

    /// A directory with `config.yml` (naming `rules.yml` and one webhook receiver) and `rules.yml`.
    struct Files {
        let dir: TemporaryDirectory
        var config: String { dir.file("config.yml") }
        var rules: String { dir.file("rules.yml") }

        init(receiverURL: String, rules: [String], extra: String = "") throws {
            dir = try TemporaryDirectory()
            try write(receiverURL: receiverURL, rules: rules, extra: extra)
        }

        func write(receiverURL: String, rules: [String], extra: String = "") throws {
            let config = """
                evaluation_interval: 200ms
                rule_files: [rules.yml]
                receivers:
                  - name: oncall
                    url: \(receiverURL)
                    secret_env: ONCALL_SECRET
                \(extra)
                """
            try config.write(toFile: self.config, atomically: true, encoding: .utf8)
            try ("rules:\n" + rules.joined()).write(toFile: self.rules, atomically: true, encoding: .utf8)
        }
    }

    static func start(_ files: Files, environment: [String: String] = [:]) async throws -> (ServeProcess, String) {
        let process = try ServeProcess(
            ["serve", "--config", files.config, "--listen", "127.0.0.1:0", "--db", files.dir.file("db.sqlite")],
            environment: ["ONCALL_SECRET": secret].merging(environment) { $1 })
        return (process, try await process.baseURL())
    }

    static func spike(_ baseURL: String) async throws {
        let events =
            (0..<2).map { _ in #"{"service":"payments","operation":"refund","outcome":"miss"}"# }
            + (0..<8).map { _ in #"{"service":"payments","operation":"refund","outcome":"hit"}"# }
        #expect(try await HTTP.post(baseURL + "/v1/events", "[" + events.joined(separator: ",") + "]").status == 202)
    }

    static func metric(_ name: String, _ baseURL: String) async throws -> Double? {
        let text = try await HTTP.get(baseURL + "/metrics").text
        return text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
    }

    static func firingNotifications(_ receiver: TestReceiver, _ alertname: String) -> Int {
        receiver.requests.filter {
            $0.json["status"] as? String == "firing"
                && (($0.json["alerts"] as? [[String: Any]])?.first?["labels"] as? [String: String])?["alertname"] == alertname
        }.count
    }

    @Test func sighupReloadsRulesWithoutRenotifyingAFiringAlertAndKeepsRunning() async throws {
        let receiver = try await TestReceiver.start()
        let files = try Files(receiverURL: receiver.url, rules: [Self.spikeRule("SpikeA")])
        let (process, baseURL) = try await Self.start(files)
        try await Self.spike(baseURL)
        #expect(await eventually { Self.firingNotifications(receiver, "SpikeA") == 1 })

        // Add a second rule over the same condition; SpikeA is unchanged.
        try files.write(receiverURL: receiver.url, rules: [Self.spikeRule("SpikeA"), Self.spikeRule("SpikeB")])
        kill(process.process.processIdentifier, SIGHUP)
        #expect(await eventually { process.stderr.contains("configuration reloaded") })
        #expect(process.process.isRunning, "SIGHUP must not end the process: \(process.stderr)")
        #expect(await eventually { Self.firingNotifications(receiver, "SpikeB") == 1 })
        // Several evaluations later SpikeA has still been notified once only.
        try await Task.sleep(for: .seconds(1))
        #expect(Self.firingNotifications(receiver, "SpikeA") == 1)
        #expect(try await Self.metric("dedup_config_last_reload_successful", baseURL) == 1)

        // Remove SpikeA: its instance resolves (one resolved notification), SpikeB keeps firing.
        try files.write(receiverURL: receiver.url, rules: [Self.spikeRule("SpikeB")])
        let reply = try await HTTP.request(.POST, baseURL + "/-/reload")
        #expect(reply.status == 200, "\(reply.text)")
        #expect(reply.json["status"] as? String == "success")
        #expect(
            await eventually {
                receiver.requests.contains {
                    $0.json["status"] as? String == "resolved" && ($0.json["groupKey"] as? String ?? "").contains("SpikeA")
                }
            })
        let alerts = try await HTTP.get(baseURL + "/v1/alerts").text
        #expect(alerts.contains("SpikeB"))
        #expect(Self.firingNotifications(receiver, "SpikeB") == 1)

        #expect(await process.stop() == 0)
        await receiver.stop()
    }

    @Test func anInvalidRuleFileKeepsTheRunningConfigurationAndIsReportedWithItsLine() async throws {
        let receiver = try await TestReceiver.start()
        let files = try Files(receiverURL: receiver.url, rules: [Self.spikeRule("SpikeA")])
        let (process, baseURL) = try await Self.start(files)
        let before = try #require(try await Self.metric("dedup_config_last_reload_success_timestamp_seconds", baseURL))

        // Line 3 has an unknown kind; the configuration file itself also gets an unknown key.
        try "rules:\n  - alert: Broken\n    kind: no_such_kind\n    window: 1m\n".write(
            toFile: files.rules, atomically: true, encoding: .utf8)
        kill(process.process.processIdentifier, SIGHUP)
        #expect(await eventually { process.stderr.contains("configuration reload failed") })
        #expect(process.process.isRunning)
        #expect(process.stderr.contains(files.rules + ":3: "), "\(process.stderr)")
        #expect(try await Self.metric("dedup_config_last_reload_successful", baseURL) == 0)

        let reply = try await HTTP.request(.POST, baseURL + "/-/reload")
        #expect(reply.status == 400)
        #expect(reply.errorCode == "invalid_configuration")
        let problems = (reply.json["error"] as? [String: Any])?["problems"] as? [String] ?? []
        #expect(problems.contains { $0.hasPrefix(files.rules + ":3: ") }, "\(problems)")

        // The running rules still work: SpikeA fires.
        try await Self.spike(baseURL)
        #expect(await eventually { Self.firingNotifications(receiver, "SpikeA") == 1 })

        // Fixed: the next reload succeeds and moves the timestamp.
        try await Task.sleep(for: .seconds(1))
        try files.write(receiverURL: receiver.url, rules: [Self.spikeRule("SpikeA")])
        #expect(try await HTTP.request(.POST, baseURL + "/-/reload").status == 200)
        #expect(try await Self.metric("dedup_config_last_reload_successful", baseURL) == 1)
        #expect(try #require(try await Self.metric("dedup_config_last_reload_success_timestamp_seconds", baseURL)) > before)
        #expect(await process.stop() == 0)
        await receiver.stop()
    }

    @Test func settingsThatNeedARestartAreReportedAndLimitsChangeAtOnce() async throws {
        let receiver = try await TestReceiver.start()
        let files = try Files(receiverURL: receiver.url, rules: [Self.spikeRule("SpikeA")])
        let (process, baseURL) = try await Self.start(files)
        try files.write(
            receiverURL: receiver.url, rules: [Self.spikeRule("SpikeA")],
            extra: "synchronous: full\nlimits: {max_events_per_request: 2}")
        let reply = try await HTTP.request(.POST, baseURL + "/-/reload")
        #expect(reply.status == 200)
        #expect(reply.json["restart_required"] as? [String] == ["synchronous"])
        #expect(process.stderr.contains("restart_required=synchronous"))
        let three =
            "[" + Array(repeating: #"{"service":"a","operation":"b","outcome":"miss"}"#, count: 3).joined(separator: ",") + "]"
        #expect(try await HTTP.post(baseURL + "/v1/events", three).status == 413)
        #expect(await process.stop() == 0)
        await receiver.stop()
    }

    @Test func reloadNeedsAnAdminTokenWhenTokensExist() async throws {
        let receiver = try await TestReceiver.start()
        let tokens = """
            auth:
              tokens:
                - {name: reporter, token_env: REPORTER_TOKEN}
                - {name: operator, token_env: OPERATOR_TOKEN, admin: true}
            """
        let files = try Files(receiverURL: receiver.url, rules: [Self.spikeRule("SpikeA")], extra: tokens)
        let (process, baseURL) = try await Self.start(
            files, environment: ["REPORTER_TOKEN": "r-secret", "OPERATOR_TOKEN": "o-secret"])
        #expect(try await HTTP.request(.POST, baseURL + "/-/reload").status == 401)
        let reporter = try await HTTP.request(.POST, baseURL + "/-/reload", headers: [("Authorization", "Bearer r-secret")])
        #expect(reporter.status == 403)
        #expect(reporter.errorCode == "forbidden")
        #expect(
            try await HTTP.request(.POST, baseURL + "/-/reload", headers: [("Authorization", "Bearer o-secret")]).status == 200)
        #expect(await process.stop() == 0)
        await receiver.stop()
    }
}

extension ReloadTests {
    @Test func aTokenFileIsReadAgainOnReload() async throws {
        let receiver = try await TestReceiver.start()
        let files = try Files(
            receiverURL: receiver.url, rules: [Self.spikeRule("SpikeA")],
            extra: "auth:\n  tokens:\n    - {name: operator, token_file: operator.token, admin: true}")
        try "first-secret\n".write(toFile: files.dir.file("operator.token"), atomically: true, encoding: .utf8)
        let (process, baseURL) = try await Self.start(files)
        let first = [("Authorization", "Bearer first-secret")]
        let second = [("Authorization", "Bearer second-secret")]
        #expect(try await HTTP.get(baseURL + "/v1/alerts", headers: first).status == 200)
        try "second-secret\n".write(toFile: files.dir.file("operator.token"), atomically: true, encoding: .utf8)
        #expect(try await HTTP.request(.POST, baseURL + "/-/reload", headers: first).status == 200)
        #expect(try await HTTP.get(baseURL + "/v1/alerts", headers: first).status == 401)
        #expect(try await HTTP.get(baseURL + "/v1/alerts", headers: second).status == 200)
        #expect(await process.stop() == 0)
        await receiver.stop()
    }

    @Test func theMetricsSectionIsLive() async throws {
        let files = try Files(
            receiverURL: "http://127.0.0.1:9/hook", rules: [Self.spikeRule("SpikeA")],
            extra: "metrics:\n  windows: [1m]\n  retry_delay: false")
        let (process, baseURL) = try await Self.start(files)
        #expect(
            try await HTTP.post(baseURL + "/v1/events", #"{"service":"payments","operation":"refund","outcome":"miss"}"#).status
                == 202)
        let before = try await HTTP.get(baseURL + "/metrics").text
        #expect(before.contains(#"dedup_attempts{service="payments",operation="refund",window="1m"} 1"#))
        #expect(!before.contains(#"window="5m""#))
        #expect(!before.contains("dedup_retry_delay_seconds_bucket"))

        try files.write(
            receiverURL: "http://127.0.0.1:9/hook", rules: [Self.spikeRule("SpikeA")],
            extra: "metrics:\n  windows: [5m]\n  series:\n    - match: {operation: refund}\n      retry_delay: true")
        let reply = try await HTTP.request(.POST, baseURL + "/-/reload")
        #expect(reply.status == 200, "\(reply.text)")
        let after = try await HTTP.get(baseURL + "/metrics").text
        #expect(after.contains(#"dedup_attempts{service="payments",operation="refund",window="5m"} 1"#))
        #expect(!after.contains(#"window="1m""#))
        #expect(after.contains(#"dedup_retry_delay_seconds_count{service="payments",operation="refund"} 0"#))

        // A section that names a window the service does not compute is refused; the running one stays.
        try files.write(
            receiverURL: "http://127.0.0.1:9/hook", rules: [Self.spikeRule("SpikeA")], extra: "metrics:\n  windows: [2m]")
        let refused = try await HTTP.request(.POST, baseURL + "/-/reload")
        #expect(refused.status == 400)
        #expect(refused.text.contains("metrics.windows: 2m is not one of the configured windows"))
        #expect(try await HTTP.get(baseURL + "/metrics").text.contains(#"window="5m""#))
        #expect(await process.stop() == 0)
    }
}
