import Foundation
import Testing

@testable import HummingbirdIdempotency

/// The store contract, for both stores, and the SQLite store shared by two instances on one file (as two processes
/// of a host share it).
struct IdempotencyStoreTests {
    static func claim(_ key: String, fingerprint: String = "f", token: String, now: Int64, lockFor: Int64 = 1000, ttl: Int64 = 60_000) -> IdempotencyClaim {
        IdempotencyClaim(key: key, fingerprint: fingerprint, token: token, nowMs: now, lockExpiresAtMs: now + lockFor, expiresAtMs: now + ttl)
    }

    static let response = StoredResponse(
        status: 201, headers: [.init(name: "Content-Type", value: "application/json"), .init(name: "X-A", value: "1")],
        body: Array(#"{"ok":true}"#.utf8))

    @Test(arguments: StoreKind.allCases)
    func lifecycle(_ kind: StoreKind) async throws {
        let store = try kind.make()
        #expect(try await store.begin(Self.claim("k", token: "a", now: 1000)) == .acquired(tookOverStaleLock: false))
        #expect(try await store.begin(Self.claim("k", token: "b", now: 1100)) == .inFlight(firstAttemptMs: 1000))
        #expect(try await store.begin(Self.claim("k", fingerprint: "other", token: "b", now: 1100)) == .mismatch)
        #expect(try await store.complete(key: "k", token: "b", response: Self.response, expiresAtMs: 60_000) == false)
        #expect(try await store.complete(key: "k", token: "a", response: Self.response, expiresAtMs: 60_000))
        #expect(try await store.begin(Self.claim("k", token: "c", now: 5000)) == .completed(Self.response, firstAttemptMs: 1000))
        // A completed record is not a lock: it does not expire with the lock timeout, only with its TTL.
        #expect(try await store.begin(Self.claim("k", token: "c", now: 59_999)) == .completed(Self.response, firstAttemptMs: 1000))
        #expect(try await store.begin(Self.claim("k", token: "d", now: 60_000)) == .acquired(tookOverStaleLock: false))
    }

    @Test(arguments: StoreKind.allCases)
    func releaseLetsTheNextAttemptExecute(_ kind: StoreKind) async throws {
        let store = try kind.make()
        _ = try await store.begin(Self.claim("k", token: "a", now: 0))
        try await store.release(key: "k", token: "other")
        #expect(try await store.begin(Self.claim("k", token: "b", now: 1)) == .inFlight(firstAttemptMs: 0))
        try await store.release(key: "k", token: "a")
        #expect(try await store.begin(Self.claim("k", token: "b", now: 2)) == .acquired(tookOverStaleLock: false))
    }

    @Test func aCrashedWorkersLockExpiresAndIsTakenOverAcrossInstances() async throws {
        let path = try temporarySQLitePath()
        let crashed = try SQLiteIdempotencyStore(path: path)
        let survivor = try SQLiteIdempotencyStore(path: path)
        #expect(try await crashed.begin(Self.claim("k", token: "dead", now: 10_000, lockFor: 500)) == .acquired(tookOverStaleLock: false))
        #expect(try await survivor.begin(Self.claim("k", token: "live", now: 10_499)) == .inFlight(firstAttemptMs: 10_000))
        #expect(try await survivor.extendLock(key: "k", token: "live", until: 99_999) == false)
        #expect(try await survivor.begin(Self.claim("k", token: "live", now: 10_500)) == .acquired(tookOverStaleLock: true))
        // The first worker comes back late: its lock is gone, so it cannot store over the new attempt.
        #expect(try await crashed.complete(key: "k", token: "dead", response: Self.response, expiresAtMs: 99_999) == false)
        #expect(try await crashed.extendLock(key: "k", token: "dead", until: 99_999) == false)
        #expect(try await survivor.complete(key: "k", token: "live", response: Self.response, expiresAtMs: 99_999))
        #expect(try await crashed.begin(Self.claim("k", token: "x", now: 11_000)) == .completed(Self.response, firstAttemptMs: 10_500))
        // Records survive a reopen (a restart).
        let reopened = try SQLiteIdempotencyStore(path: path)
        #expect(try await reopened.begin(Self.claim("k", token: "y", now: 12_000)) == .completed(Self.response, firstAttemptMs: 10_500))
    }

    @Test func twoInstancesRacingForOneKeyHaveOneWinner() async throws {
        let path = try temporarySQLitePath()
        let stores = [try SQLiteIdempotencyStore(path: path), try SQLiteIdempotencyStore(path: path)]
        for round in 0..<20 {
            let results = try await withThrowingTaskGroup(of: BeginResult.self) { group in
                for attempt in 0..<16 {
                    group.addTask {
                        try await stores[attempt % 2].begin(Self.claim("race-\(round)", token: "t\(attempt)", now: 1000))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.filter { $0 == .acquired(tookOverStaleLock: false) }.count == 1)
            #expect(results.filter { $0 == .inFlight(firstAttemptMs: 1000) }.count == 15)
        }
    }

    @Test func sha256MatchesTheFIPSVectors() {
        func hex(_ text: String) -> String {
            var hasher = SHA256()
            hasher.update(text.utf8)
            return hasher.finalizeHex()
        }
        #expect(hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(hex(String(repeating: "a", count: 1_000_000)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // 55, 56 and 64 bytes: the padding edge cases.
        #expect(hex(String(repeating: "a", count: 55)) == "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318")
        #expect(hex(String(repeating: "a", count: 56)) == "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a")
        #expect(hex(String(repeating: "a", count: 64)) == "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb")
    }
}
