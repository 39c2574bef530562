import DedupVitalsServer
import Foundation
import Testing

/// Errors handled without failing a request are logged and counted in `dedup_internal_errors_total`, never
/// swallowed.
@Suite struct InternalErrorTests {
    @Test func aBadRuleFileIsCountedAndTheServiceRunsWithoutItsRules() async throws {
        let dir = try TemporaryDirectory()
        let rules = dir.file("rules.yml")
        try "groups: [this is: not a rule file".write(toFile: rules, atomically: true, encoding: .utf8)
        try await withService(database: dir.file("db.sqlite"), configure: { $0.ruleFiles = [rules] }) { service in
            let metrics = try await HTTP.get(service.baseURL + "/metrics").text
            #expect(metrics.contains(#"dedup_internal_errors_total{operation="rule_load"} 1"#), "\(metrics.suffix(800))")
            #expect(metrics.contains(#"dedup_internal_errors_total{operation="outbox_prune"} 0"#))
        }
    }
}
