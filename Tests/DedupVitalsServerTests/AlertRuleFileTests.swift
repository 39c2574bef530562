import DedupVitalsCore
import Foundation
import Testing

@testable import DedupVitalsServer

/// Rule files: the shipped defaults, validation with file:line, and `check-config` / `serve` of the real binary.
@Suite struct AlertRuleFileTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test func embeddedDefaultRulesEqualTheShippedFile() throws {
        let file = try String(contentsOfFile: Self.repositoryRoot + "/alerts/dedup-vitals.yml", encoding: .utf8)
        #expect(DefaultAlertRules.yaml + "\n" == file, "run scripts/generate-default-rules.sh")
    }

    @Test func defaultRulesAreValidAndLoadedWithoutRuleFiles() throws {
        let rules = try AlertRuleLoader.load(for: ServiceConfig())
        #expect(
            rules.map(\.name) == [
                "DuplicateAttemptSpike", "InFlightContention", "IdempotencyKeyMismatch", "StaleInFlightKeys", "DoubleExecution",
            ])
        #expect(Set(rules.map(\.kind)) == Set(AlertRuleKind.allCases))
        for rule in rules {
            #expect(rule.labels["severity"] != nil)
            #expect(rule.annotations.keys.sorted() == ["description", "runbook_url", "summary"])
            #expect(rule.annotations["runbook_url"]?.contains("README.md#runbook-\(rule.name.lowercased())") == true)
        }
        let spike = try #require(rules.first)
        #expect(spike.baseline == .init(window: .hours(1), factor: 3))
        #expect(spike.minAttempts == 50)
        #expect(spike.forDuration == .minutes(2))
    }

    @Test func everyFieldIsParsed() throws {
        let text = """
            rules:
              - alert: Spike
                kind: duplicate_ratio
                window: 5m
                above: 0.25
                baseline: {window: 1h, factor: 2.5}
                min_attempts: 10
                for: 90s
                match: {service: payments, operation: refund}
                labels: {severity: critical, team: core}
                annotations: {summary: "{{ $value | humanizePercentage }}"}
            """
        let (rules, problems) = AlertRuleLoader.parse(text, file: "rules.yml")
        #expect(problems.isEmpty)
        #expect(
            rules == [
                AlertRule(
                    name: "Spike", kind: .duplicateRatio, window: .minutes(5), above: 0.25,
                    baseline: .init(window: .hours(1), factor: 2.5),
                    minAttempts: 10, forDuration: .seconds(90), match: ["service": "payments", "operation": "refund"],
                    labels: ["severity": "critical", "team": "core"],
                    annotations: ["summary": "{{ $value | humanizePercentage }}"])
            ])
    }

    static let invalidRules = """
        rules:
          - alert: Spike
            kind: duplicate_ratio
            window: 7s
            above: 1.5
          - alert: Other
            kind: bogus
          - alert: Third
            kind: stale_in_flight
            baseline: {window: 1h, factor: 2}
            labels: {alertname: x}
            match: {client: web}
            annotations: {summary: "{{ $value | shout }}"}
            typo: 1
          - alert: Spike
            kind: double_execution
          - kind: mismatch_ratio
            above: 0.1
        """

    @Test func invalidRuleFilesFailCheckConfigWithFileAndLine() throws {
        let dir = try TemporaryDirectory()
        let rules = try dir.write("rules.yml", Self.invalidRules)
        let config = try dir.write("config.yml", "rule_files: [rules.yml, missing.yml]\n")
        let (_, _, problems) = AlertRuleLoader.checkConfigFile(config)
        let lines = problems.map(\.description)
        let expected = [
            "\(rules):4: alert Spike: window 7s is not a multiple of the 10s bucket",
            "\(rules):5: alert Spike: above is a ratio for duplicate_ratio and must be below 1",
            "\(rules):7: alert Other: kind \"bogus\"",
            "\(rules):14: unknown key \"rules[].typo\"",
            "\(rules):10: alert Third: baseline applies to ratio kinds only",
            "\(rules):11: alert Third: label \"alertname\" is set by dedup-vitals",
            "\(rules):12: alert Third: match may only filter on service and operation",
            "\(rules):13: alert Third: annotation summary: unknown function \"shout\"",
            "\(rules):17: rules[]: alert (the rule's name) is required",
            "\(dir.path)/missing.yml: cannot read the rule file",
        ]
        for prefix in expected {
            #expect(lines.contains { $0.hasPrefix(prefix) }, "missing \(prefix) in \(lines)")
        }
        // The first Spike is invalid, so the second one (valid) does not count as a duplicate name.
        #expect(lines.contains { $0.hasPrefix("\(rules):15: alert \"Spike\" is already defined") } == false)
    }

    @Test func duplicateAlertNamesAcrossFilesAreReported() throws {
        let dir = try TemporaryDirectory()
        let rule = "rules:\n  - alert: Double\n    kind: double_execution\n"
        _ = try dir.write("a.yml", rule)
        let b = try dir.write("b.yml", rule)
        let config = try dir.write("config.yml", "rule_files: [a.yml, b.yml]\n")
        let (_, rules, problems) = AlertRuleLoader.checkConfigFile(config)
        #expect(rules.count == 1)
        #expect(
            problems.map(\.description) == [
                "\(b):2: alert \"Double\" is already defined at \(dir.path)/a.yml:2; alert names must be unique"
            ])
    }

    @Test func receiverKindIsValidated() {
        let (config, problems) = ConfigLoader.parse(
            """
            receivers:
              - {name: am, url: "http://127.0.0.1:9093", kind: alertmanager}
              - {name: bad, url: "http://127.0.0.1:9000/hook", kind: pager}
            """, file: "c.yml")
        #expect(config.receivers.first?.kind == .alertmanager)
        #expect(problems.map(\.description) == ["c.yml:3: receivers[] bad: kind must be webhook or alertmanager"])
    }

    @Test func foldIntervalIsADurationBetween10msAnd1m() {
        #expect(ConfigLoader.parse("fold_interval: 250ms", file: "c.yml").0.foldInterval == .init(milliseconds: 250))
        #expect(ConfigLoader.parse("", file: "c.yml").0.foldInterval == .seconds(1))
        for bad in ["5ms", "2m"] {
            #expect(
                ConfigLoader.parse("fold_interval: \(bad)", file: "c.yml").1.map(\.description) == [
                    "c.yml:1: fold_interval must be between 10ms and 1m"
                ])
        }
        #expect(ConfigLoader.parse("fold_interval: soon", file: "c.yml").1.count == 1)
    }

    @Test func missingReceiverSecretIsAConfigurationError() {
        let receivers = [ServiceConfig.Receiver(name: "oncall", url: "http://127.0.0.1:9/h", secretEnv: "ONCALL_SECRET")]
        #expect(throws: ConfigError.self) { try ReceiverSecrets.resolve(receivers, environment: [:], configFile: "c.yml") }
        #expect(throws: ConfigError.self) {
            try ReceiverSecrets.resolve(receivers, environment: ["ONCALL_SECRET": "whsec_!!"], configFile: "c.yml")
        }
        #expect(
            (try? ReceiverSecrets.resolve(receivers, environment: ["ONCALL_SECRET": "s3cret"], configFile: "c.yml")) == [
                "oncall": Array("s3cret".utf8)
            ])
    }

    // MARK: The real binary

    /// Runs the built binary to completion; its exit status and output (stdout then stderr).
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (Int32, String) {
        let result = try ChildProcess.run(arguments, environment: environment)
        return (result.status, result.stdout + result.stderr)
    }

    @Test func checkConfigBinaryExits78WithFileAndLine() throws {
        let dir = try TemporaryDirectory()
        let rules = try dir.write("rules.yml", Self.invalidRules)
        let config = try dir.write("config.yml", "rule_files: [rules.yml]\n")
        let (status, output) = try Self.run(["check-config", config])
        #expect(status == 78)
        #expect(output.contains("\(rules):4: alert Spike: window 7s"))
        #expect(output.contains("\(rules):13: alert Third: annotation summary"))

        let valid = try dir.write("valid.yml", "evaluation_interval: 30s\n")
        let (okStatus, okOutput) = try Self.run(["check-config", valid])
        #expect(okStatus == 0, "\(okOutput)")
    }

    @Test func serveExits78WhenAReceiverSecretIsMissing() throws {
        let dir = try TemporaryDirectory()
        let config = try dir.write(
            "config.yml",
            """
            receivers:
              - {name: oncall, url: "http://127.0.0.1:9/hook", secret_env: DEDUP_TEST_MISSING_SECRET}
            """)
        let (status, output) = try Self.run([
            "serve", "--config", config, "--db", dir.file("db.sqlite"), "--listen", "127.0.0.1:0",
        ])
        #expect(status == 78)
        #expect(output.contains("DEDUP_TEST_MISSING_SECRET"))
    }
}
