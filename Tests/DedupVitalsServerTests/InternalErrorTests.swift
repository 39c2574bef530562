import DedupVitalsServer
import Foundation
import GRDB
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

    /// A key-log row that a start cannot read to its end (here an entry of a tag this version does not know, as a
    /// newer version could write) is counted once, and the service starts.
    @Test func anUnreadableKeyLogRowIsCountedAtStart() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("db.sqlite")
        try await withService(database: path) { service in
            let metrics = try await HTTP.get(service.baseURL + "/metrics").text
            #expect(metrics.contains(#"dedup_internal_errors_total{operation="key_log_replay"} 0"#))
        }
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            let row = Data([9] + Array(repeating: 1, count: 16))
            try db.execute(sql: "INSERT INTO key_log(records) VALUES (?)", arguments: [row])
        }
        try queue.close()
        try await withService(database: path) { service in
            let metrics = try await HTTP.get(service.baseURL + "/metrics").text
            #expect(metrics.contains(#"dedup_internal_errors_total{operation="key_log_replay"} 1"#), "\(metrics.suffix(800))")
        }
    }
}
