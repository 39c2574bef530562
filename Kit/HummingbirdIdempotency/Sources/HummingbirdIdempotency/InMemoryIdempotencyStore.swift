import Synchronization

/// Idempotency records in this process's memory: for one instance of a service, or tests. Lost at restart.
public final class InMemoryIdempotencyStore: IdempotencyStore {
    private struct Record {
        var fingerprint: String
        var token: String?
        var firstAttemptMs: Int64
        var lockExpiresAtMs: Int64
        var expiresAtMs: Int64
        var response: StoredResponse?
    }

    private let records = Mutex<[String: Record]>([:])

    public init() {}

    public func begin(_ claim: IdempotencyClaim) async throws -> BeginResult {
        records.withLock { records in
            var tookOver = false
            if let record = records[claim.key] {
                let expired = record.expiresAtMs <= claim.nowMs
                let staleLock = record.response == nil && record.lockExpiresAtMs <= claim.nowMs
                if !expired && !staleLock {
                    guard record.fingerprint == claim.fingerprint else { return .mismatch }
                    if let response = record.response { return .completed(response, firstAttemptMs: record.firstAttemptMs) }
                    return .inFlight(firstAttemptMs: record.firstAttemptMs)
                }
                tookOver = staleLock && !expired
            }
            records[claim.key] = Record(
                fingerprint: claim.fingerprint, token: claim.token, firstAttemptMs: claim.nowMs,
                lockExpiresAtMs: claim.lockExpiresAtMs, expiresAtMs: claim.expiresAtMs)
            return .acquired(tookOverStaleLock: tookOver)
        }
    }

    public func complete(key: String, token: String, response: StoredResponse, expiresAtMs: Int64) async throws -> Bool {
        records.withLock { records in
            guard var record = records[key], record.token == token, record.response == nil else { return false }
            record.response = response
            record.token = nil
            record.expiresAtMs = expiresAtMs
            records[key] = record
            return true
        }
    }

    public func extendLock(key: String, token: String, until lockExpiresAtMs: Int64) async throws -> Bool {
        records.withLock { records in
            guard records[key]?.token == token, records[key]?.response == nil else { return false }
            records[key]?.lockExpiresAtMs = lockExpiresAtMs
            return true
        }
    }

    public func release(key: String, token: String) async throws {
        records.withLock { records in
            if records[key]?.token == token, records[key]?.response == nil { records[key] = nil }
        }
    }

    public func removeExpired(nowMs: Int64) async throws -> Int {
        records.withLock { records in
            let before = records.count
            records = records.filter { $0.value.expiresAtMs > nowMs }
            return before - records.count
        }
    }
}
