import DedupVitalsReporter
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import HummingbirdIdempotency

/// The middleware in a real Hummingbird server on loopback, driven by real HTTP clients, with each store.
struct IdempotencyMiddlewareTests {
    @Test(arguments: StoreKind.allCases)
    func manyConcurrentRetriesExecuteOnceAndTheRestGet409(_ kind: StoreKind) async throws {
        let app = TestApp(store: try kind.make()) { $0.gate = Gate() }
        try await app.application().test(.live) { client in
            let port = try #require(client.port)
            let first = Task { try await post(port: port, key: "refund-1", body: "r1") }
            #expect(await eventually { app.executionCount == 1 })
            let retries = try await withThrowingTaskGroup(of: Answer.self) { group in
                for _ in 0..<40 { group.addTask { try await post(port: port, key: "refund-1", body: "r1") } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            app.gate.open()
            let original = try await first.value
            #expect(original.status == 201)
            #expect(retries.allSatisfy { $0.status == 409 && $0.errorCode == "request_in_progress" && $0.header("Retry-After") == "1" })
            #expect(app.executionCount == 1)

            let replay = try await post(port: port, key: "refund-1", body: "r1")
            #expect(replay.status == 201)
            #expect(replay.body == original.body, "the replay is byte-identical")
            #expect(replay.header("X-Refund-Id") == original.header("X-Refund-Id"))
            #expect(replay.header("Content-Type") == "application/json")
            #expect(replay.header("Idempotent-Replayed") == "true")
            #expect(original.header("Idempotent-Replayed") == nil)
            #expect(app.executionCount == 1)

            #expect(app.decisions.count(.miss) == 1)
            #expect(app.decisions.count(.completed) == 1)
            #expect(app.decisions.count(.inFlight) == 40)
            #expect(app.decisions.count(.hit) == 1)
            let hit = try #require(app.decisions.all.first { $0.outcome == .hit })
            #expect((hit.ageMs ?? -1) >= 0)
            #expect(hit.key == "refund-1" && hit.service == "payments" && hit.operation == "refund")
            #expect(hit.payload?.count == 64)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func waitingRetriesGetTheFirstResult(_ kind: StoreKind) async throws {
        let app = TestApp(store: try kind.make()) {
            $0.configuration.inFlight = .wait(upTo: .seconds(10))
            $0.gate = Gate()
        }
        try await app.application().test(.live) { client in
            let port = try #require(client.port)
            let first = Task { try await post(port: port, key: "refund-2", body: "r2") }
            #expect(await eventually { app.executionCount == 1 })
            let retries = Task {
                try await withThrowingTaskGroup(of: Answer.self) { group in
                    for _ in 0..<20 { group.addTask { try await post(port: port, key: "refund-2", body: "r2") } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            app.gate.open()
            let original = try await first.value
            let answers = try await retries.value
            #expect(answers.allSatisfy { $0.status == 201 && $0.body == original.body && $0.header("Idempotent-Replayed") == "true" })
            #expect(app.executionCount == 1)
            #expect(app.decisions.count(.hit) == 20)
            #expect(app.decisions.count(.inFlight) == 0)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aKeyReusedWithAnotherRequestGets422(_ kind: StoreKind) async throws {
        let app = TestApp(store: try kind.make())
        try await app.application().test(.live) { client in
            let port = try #require(client.port)
            #expect(try await post(port: port, key: "refund-3", body: "amount=10").status == 201)
            let reused = try await post(port: port, key: "refund-3", body: "amount=99")
            #expect(reused.status == 422)
            #expect(reused.errorCode == "idempotency_key_reused")
            let otherRoute = try await post(port: port, path: "/refunds/flaky", key: "refund-3", body: "amount=10")
            #expect(otherRoute.status == 200 && otherRoute.header("Idempotent-Replayed") == nil, "keys are scoped by route: this one is new and executes")
            #expect(app.executionCount == 2)
            #expect(app.decisions.count(.mismatch) == 1)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func keysAreScopedByCaller(_ kind: StoreKind) async throws {
        let app = TestApp(store: try kind.make())
        try await app.application().test(.live) { client in
            let port = try #require(client.port)
            let a = try await post(port: port, key: "order-42", body: "x", client: "shop_a")
            let b = try await post(port: port, key: "order-42", body: "x", client: "shop_b")
            #expect(a.status == 201 && b.status == 201)
            #expect(a.body != b.body, "one caller's key never replays another caller's response")
            #expect(app.executionCount == 2)
            #expect(Set(app.decisions.all.filter { $0.outcome == .miss }.map(\.key)) == ["shop_a/order-42", "shop_b/order-42"])
            #expect(Set(app.decisions.all.compactMap(\.client)) == ["shop_a", "shop_b"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func serverErrorsAreNotStoredButClientErrorsAre(_ kind: StoreKind) async throws {
        let app = TestApp(store: try kind.make())
        try await app.application().test(.live) { client in
            let port = try #require(client.port)
            #expect(try await post(port: port, path: "/refunds/flaky", key: "f1", body: "").status == 503)
            let second = try await post(port: port, path: "/refunds/flaky", key: "f1", body: "")
            #expect(second.status == 200 && second.body == "ok after 2", "the 503 was not stored: the retry executed")
            let third = try await post(port: port, path: "/refunds/flaky", key: "f1", body: "")
            #expect(third.body == "ok after 2" && third.header("Idempotent-Replayed") == "true")

            let invalid = try await post(port: port, path: "/refunds/invalid", key: "i1", body: "")
            let invalidAgain = try await post(port: port, path: "/refunds/invalid", key: "i1", body: "")
            #expect(invalid.status == 400 && invalidAgain.status == 400)
            #expect(invalidAgain.body == invalid.body && invalidAgain.header("Idempotent-Replayed") == "true")
            #expect(app.executionCount == 3)
        }
    }

    @Test func keyValidationAndRequiredMode() async throws {
        let app = TestApp(store: InMemoryIdempotencyStore()) { $0.configuration.keyRequired = true }
        try await app.application().test(.live) { client in
            let port = try #require(client.port)
            let missing = try await post(port: port, key: nil, body: "x")
            #expect(missing.status == 400 && missing.errorCode == "idempotency_key_required")
            let tooLong = try await post(port: port, key: String(repeating: "k", count: 256), body: "x")
            #expect(tooLong.status == 400 && tooLong.errorCode == "invalid_idempotency_key")
            #expect(try await post(port: port, key: String(repeating: "k", count: 255), body: "x").status == 201)
            #expect(app.executionCount == 1)
        }
        let optional = TestApp(store: InMemoryIdempotencyStore())
        try await optional.application().test(.live) { client in
            let port = try #require(client.port)
            #expect(try await post(port: port, key: nil, body: "x").status == 201)
            #expect(try await post(port: port, key: nil, body: "x").status == 201)
            #expect(optional.executionCount == 2 && optional.decisions.all.isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func completedKeysExpireAfterTheTTL(_ kind: StoreKind) async throws {
        let app = TestApp(store: try kind.make()) { $0.configuration.ttl = .milliseconds(400) }
        try await app.application().test(.live) { client in
            let port = try #require(client.port)
            let first = try await post(port: port, key: "ttl", body: "x")
            #expect(try await post(port: port, key: "ttl", body: "x").body == first.body)
            try await Task.sleep(for: .milliseconds(500))
            let later = try await post(port: port, key: "ttl", body: "x")
            #expect(later.status == 201 && later.body != first.body && later.header("Idempotent-Replayed") == nil)
            #expect(app.executionCount == 2)
            #expect(try await app.store.removeExpired(nowMs: Int64(Date().timeIntervalSince1970 * 1000) + 1000) == 1)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aRunningHandlerKeepsItsLockPastTheLockTimeout(_ kind: StoreKind) async throws {
        let app = TestApp(store: try kind.make()) {
            $0.configuration.lockTimeout = .milliseconds(300)
            $0.handlerDelay = .milliseconds(1200)
        }
        try await app.application().test(.live) { client in
            let port = try #require(client.port)
            let first = Task { try await post(port: port, key: "long", body: "x") }
            try await Task.sleep(for: .milliseconds(800))
            let retry = try await post(port: port, key: "long", body: "x")
            #expect(retry.status == 409, "the lock was renewed while the handler ran")
            #expect(try await first.value.status == 201)
            #expect(app.executionCount == 1)
        }
    }
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}
