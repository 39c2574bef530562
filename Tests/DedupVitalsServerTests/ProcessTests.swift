import Foundation
import Synchronization
import Testing

/// The executable as a user runs it: crash safety, graceful shutdown, exit codes.
@Suite struct ProcessTests {
    @Test func everyAcknowledgedEventSurvivesSIGKILL() async throws {
        let dir = try TemporaryDirectory()
        let database = dir.file("db.sqlite")
        let batch =
            "["
            + Array(repeating: #"{"service":"payments","operation":"refund","outcome":"miss"}"#, count: 10).joined(separator: ",")
            + "]"
        let acknowledged = Counter()
        let sent = Counter()
        try await withProcess(serving: database, logPath: dir.file("serve.log")) { service in
            let url = service.baseURL + "/v1/events"
            // Several concurrent clients keep sending until the process dies under them.
            let clients = (0..<8).map { _ in
                Task {
                    while !Task.isCancelled {
                        sent.add(10)
                        guard let reply = try? await HTTP.post(url, batch) else { return }
                        if reply.status == 202 { acknowledged.add(10) }
                    }
                }
            }
            // Killed once events are being acknowledged (however loaded the machine), with requests in flight.
            let deadline = ContinuousClock.now + .seconds(30)
            while acknowledged.value == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            try await Task.sleep(for: .milliseconds(300))
            service.kill(SIGKILL)
            _ = try await service.waitForExit()
            for client in clients { client.cancel() }
            for client in clients { await client.value }
            #expect(acknowledged.value > 0)
        }

        try await withProcess(serving: database, logPath: dir.file("serve2.log")) { restarted in
            let totals = try #require(try await IngestTests.totals(restarted.baseURL))
            let stored = try #require(totals["miss"])
            #expect(stored >= acknowledged.value, "acknowledged \(acknowledged.value), stored \(stored)")
            #expect(stored <= sent.value)
            restarted.kill(SIGTERM)
            #expect(try await restarted.waitForExit() == 0)
        }
    }

    /// Folds every 10 ms while 8 clients send batches over 20 series and 4 callers, with retry delays: each of three
    /// SIGKILLs lands among folds (and some inside one). Every acknowledged event is counted once after the restarts,
    /// and the folded tables agree with each other: the windows (buckets), the callers (client buckets) and the retry
    /// delays add up to the series totals.
    @Test func everyAcknowledgedEventSurvivesSIGKILLDuringFolds() async throws {
        let dir = try TemporaryDirectory()
        let database = dir.file("db.sqlite")
        let config = dir.file("fold.yml")
        try "fold_interval: 10ms\n".write(toFile: config, atomically: true, encoding: .utf8)
        let events = (0..<100).map { n in
            let outcome = n % 10 == 3 ? #""outcome":"hit","age_ms":1500"# : #""outcome":"miss""#
            return #"{"service":"payments","operation":"op\#(n % 20)","client":"c\#(n % 4)",\#(outcome)}"#
        }
        let batch = "[" + events.joined(separator: ",") + "]"
        let acknowledged = Counter()
        let sent = Counter()
        for round in 0..<3 {
            try await withProcess(
                serving: database, logPath: dir.file("serve\(round).log"), extraArguments: ["--config", config]
            ) { service in
                let url = service.baseURL + "/v1/events"
                let clients = (0..<8).map { _ in
                    Task {
                        while !Task.isCancelled {
                            sent.add(100)
                            guard let reply = try? await HTTP.post(url, batch) else { return }
                            if reply.status == 202 { acknowledged.add(100) }
                        }
                    }
                }
                let target = acknowledged.value + 1
                let deadline = ContinuousClock.now + .seconds(30)
                while acknowledged.value < target, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
                try await Task.sleep(for: .milliseconds(400 + 150 * round))
                service.kill(SIGKILL)
                _ = try await service.waitForExit()
                for client in clients { client.cancel() }
                for client in clients { await client.value }
            }
        }
        #expect(acknowledged.value > 0)
        try await withProcess(serving: database, logPath: dir.file("serve-final.log")) { restarted in
            let summary = try await HTTP.get(restarted.baseURL + "/v1/summary").json
            let series = try #require(summary["series"] as? [[String: Any]])
            #expect(series.count == 20)
            func sum(_ value: ([String: Any]) -> Int?) -> Int { series.reduce(0) { $0 + (value($1) ?? 0) } }
            let attempts = sum { ($0["totals"] as? [String: Any])?["attempts"] as? Int }
            let hits = sum { ($0["totals"] as? [String: Any])?["hit"] as? Int }
            #expect(attempts >= acknowledged.value, "acknowledged \(acknowledged.value), stored \(attempts)")
            #expect(attempts <= sent.value)
            #expect(attempts % 100 == 0, "whole batches only: \(attempts)")
            #expect(hits * 10 == attempts)
            #expect(sum { (($0["windows"] as? [String: Any])?["1h"] as? [String: Any])?["attempts"] as? Int } == attempts)
            #expect(sum { ($0["top_clients"] as? [[String: Any]])?.reduce(0) { $0 + ($1["attempts"] as? Int ?? 0) } } == attempts)
            #expect(sum { ($0["retry_delay"] as? [String: Any])?["count"] as? Int } == hits)
            restarted.kill(SIGTERM)
            #expect(try await restarted.waitForExit() == 0)
        }
    }

    @Test func sigtermFinishesGracefullyWithExitZero() async throws {
        let dir = try TemporaryDirectory()
        try await withProcess(serving: dir.file("db.sqlite"), logPath: dir.file("serve.log")) { service throws in
            #expect(
                try await HTTP.post(service.baseURL + "/v1/events", #"{"service":"a","operation":"b","outcome":"miss"}"#).status
                    == 202)
            service.kill(SIGTERM)
            #expect(try await service.waitForExit() == 0)
            #expect(service.log().contains("database closed"))
        }
    }

    @Test func aForeignDatabaseFileIsRefusedWithExit78AndLeftUntouched() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("foreign.sqlite")
        let original = Data("this is not a database, just some bytes that happen to be here\n".utf8)
        try #require(FileManager.default.createFile(atPath: path, contents: original))
        let result = try ChildProcess.run(["serve", "--listen", "127.0.0.1:0", "--db", path])
        #expect(result.status == 78)
        #expect(result.stderr.contains("not a dedup-vitals database"))
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(FileManager.default.contents(atPath: path) == original)
    }

    @Test func usageAndConfigurationErrorsHaveTheirExitCodes() throws {
        let dir = try TemporaryDirectory()
        #expect(try ChildProcess.run(["serve", "--listen", "nonsense"]).status == 64)
        #expect(try ChildProcess.run(["no-such-command"]).status == 64)
        let version = try ChildProcess.run(["--version"])
        #expect(version.status == 0)
        #expect(!version.stdout.isEmpty)

        let bad = dir.file("bad.yml")
        try "listen: 127.0.0.1:9470\nretention: forever\nwindows: [1m, 7s]\nfrobnicate: true\n".write(
            toFile: bad, atomically: true, encoding: .utf8)
        let check = try ChildProcess.run(["check-config", bad])
        #expect(check.status == 78)
        let lines = check.stderr.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.contains { $0.contains("bad.yml:2:") && $0.contains("retention") })
        #expect(lines.contains { $0.contains("bad.yml:3:") && $0.contains("7s") })
        #expect(lines.contains { $0.contains("bad.yml:4:") && $0.contains("frobnicate") })
        #expect(try ChildProcess.run(["serve", "--config", bad]).status == 78)

        let good = dir.file("good.yml")
        try "listen: 127.0.0.1:9470\nwindows: [1m, 5m]\nretention: 2h\nlimits: {max_events_per_request: 500}\n".write(
            toFile: good, atomically: true, encoding: .utf8)
        #expect(try ChildProcess.run(["check-config", good]).status == 0)

        let open = try ChildProcess.run(["serve", "--listen", "0.0.0.0:0", "--db", dir.file("x.sqlite")])
        #expect(open.status == 78)
        #expect(open.stderr.contains("--allow-unauthenticated"))
    }
}

/// A thread-safe counter for tests.
final class Counter: Sendable {
    private let count = Mutex(0)
    func add(_ n: Int) { count.withLock { $0 += n } }
    var value: Int { count.withLock { $0 } }
}

/// Webhook delivery across a SIGKILL: the notification waits in the database's outbox and is delivered after the
/// restart with the same webhook-id (a duplicate is allowed, a loss is not).
@Suite struct WebhookCrashTests {
    @Test func sigkillDuringDeliveryLosesNoNotification() async throws {
        let dir = try TemporaryDirectory()
        let receiver = try await TestReceiver.start()
        // The first delivery is held long enough to kill the service while it waits for the answer.
        receiver.answer([TestReceiver.Answer(status: 200, delay: .seconds(5))], then: TestReceiver.Answer(status: 200))
        let rules = dir.file("rules.yml")
        try """
        rules:
          - alert: CrashSpike
            kind: duplicate_ratio
            window: 1m
            above: 0.1
            min_attempts: 1
            for: 0s
            labels: {severity: critical}
            annotations: {summary: "spike"}
        """.write(toFile: rules, atomically: true, encoding: .utf8)
        let config = dir.file("config.yml")
        try """
        evaluation_interval: 200ms
        rule_files: [\(rules)]
        receivers:
          - {name: oncall, url: "\(receiver.url)", send_resolved: false}
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let database = dir.file("db.sqlite")
        let inFlight = try await withProcess(
            serving: database, logPath: dir.file("first.log"), extraArguments: ["--config", config]
        ) { first in
            let spike =
                "["
                + Array(repeating: #"{"service":"payments","operation":"refund","outcome":"hit"}"#, count: 5).joined(
                    separator: ",") + "]"
            #expect(try await HTTP.post(first.baseURL + "/v1/events", spike).status == 202)

            let deadline = ContinuousClock.now + .seconds(20)
            while receiver.requests.isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            let inFlight = try #require(receiver.requests.first, "no delivery started")
            #expect(!inFlight.webhookID.isEmpty)
            first.kill(SIGKILL)
            _ = try await first.waitForExit()
            return inFlight
        }

        try await withProcess(serving: database, logPath: dir.file("second.log"), extraArguments: ["--config", config]) {
            second in
            let redeliveryDeadline = ContinuousClock.now + .seconds(30)
            while receiver.requests.count < 2, ContinuousClock.now < redeliveryDeadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            let requests = receiver.requests
            #expect(requests.count >= 2, "the notification was not delivered after the restart")
            #expect(requests.dropFirst().contains { $0.webhookID == inFlight.webhookID })
            #expect(requests.allSatisfy { ($0.json["alerts"] as? [[String: Any]])?.first?["status"] as? String == "firing" })
            second.kill(SIGTERM)
            #expect(try await second.waitForExit() == 0)
        }
        await receiver.stop()
    }
}
