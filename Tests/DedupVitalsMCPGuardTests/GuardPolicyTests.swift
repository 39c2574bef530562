import DedupVitalsMCPGuard
import Testing

/// The decision state machine: miss, in_flight (wait), hit, mismatch, and how a call ends.
@Suite("guard decisions")
struct GuardPolicyTests {
    /// One decision (`#expect` cannot call a mutating method itself).
    static func decide(
        _ policy: inout GuardPolicy, _ request: JSONValue, _ key: IntentKey, stored: GuardPolicy.Stored? = nil, now: Int64,
        wait: Int64 = 500
    ) -> GuardPolicy.Decision {
        policy.decide(request: request, key: key, stored: stored, nowMs: now, waitMs: wait)
    }

    static let key = IntentKey(tool: "refund", arguments: .object(["order": .integer(42)]), rule: .init())
    static let otherArguments = IntentKey(
        tool: "refund", arguments: .object(["order": .integer(42), "amount": .integer(5)]),
        rule: .init(keyFields: ["order"]))
    static let keyedByOrder = IntentKey(
        tool: "refund", arguments: .object(["order": .integer(42), "amount": .integer(9)]),
        rule: .init(keyFields: ["order"]))

    @Test("a new key executes; a repeat while it runs waits; the end of the call releases its waiters")
    func missThenWait() throws {
        var policy = GuardPolicy(service: "s")
        let first = Self.decide(&policy, .integer(1), Self.key, now: 1000)
        let repeated = Self.decide(&policy, .integer(2), Self.key, now: 1200)
        #expect(first == .execute)
        #expect(repeated == .wait(deadlineMs: 1700, ageMs: 200))
        #expect(policy.running(.integer(1))?.startedMs == 1000)
        #expect(policy.running(.integer(2)) == nil)
        let finished = policy.finish(.integer(1))
        #expect(finished?.waiters == [.integer(2)])
        #expect(finished?.startedMs == 1000)
        let again = policy.finish(.integer(1))
        #expect(again == nil)
        // Ended: the next call decides from the store again.
        let next = Self.decide(&policy, .integer(3), Self.key, now: 1300)
        #expect(next == .execute)
    }

    @Test("a stored outcome is replayed; with another fingerprint it is a mismatch")
    func hitAndMismatch() {
        var policy = GuardPolicy(service: "s")
        let stored = GuardPolicy.Stored(
            fingerprint: Self.keyedByOrder.fingerprint, result: .object([:]), firstMs: 100, completedMs: 200)
        let hit = Self.decide(&policy, .integer(1), Self.keyedByOrder, stored: stored, now: 1000)
        let mismatch = Self.decide(&policy, .integer(2), Self.otherArguments, stored: stored, now: 1000)
        #expect(hit == .replay(stored))
        #expect(Self.keyedByOrder.text == Self.otherArguments.text)
        #expect(mismatch == .mismatch(ageMs: 900))
    }

    @Test("same key, other arguments, while the first runs: a mismatch, not a wait")
    func mismatchWhileRunning() {
        var policy = GuardPolicy(service: "s")
        let first = Self.decide(&policy, .string("a"), Self.keyedByOrder, now: 0)
        let second = Self.decide(&policy, .string("b"), Self.otherArguments, now: 50)
        #expect(first == .execute)
        #expect(second == .mismatch(ageMs: 50))
    }

    @Test("a waiter released at its deadline is no longer answered at the end of the call")
    func releasedWaiter() {
        var policy = GuardPolicy(service: "s")
        _ = Self.decide(&policy, .integer(1), Self.key, now: 0, wait: 10)
        _ = Self.decide(&policy, .integer(2), Self.key, now: 5, wait: 10)
        let released = policy.release(.integer(2))
        let twice = policy.release(.integer(2))
        let finished = policy.finish(.integer(1))
        #expect(released == 0)
        #expect(twice == nil)
        #expect(finished?.waiters == [])
    }

    @Test("one key in two services is two keys in the store")
    func storePerService() {
        #expect(Self.key.storeID(service: "a") != Self.key.storeID(service: "b"))
    }
}
