/// Keeps idempotency records: one per scoped key, first as a lock held by the attempt that executes, then as the
/// stored response that later attempts replay. Times are milliseconds since the Unix epoch, passed in by the
/// caller, so that every implementation decides against the same clock reading.
///
/// Implementations: ``InMemoryIdempotencyStore`` (one process) and ``SQLiteIdempotencyStore`` (survives restarts,
/// shared by the processes of one host).
public protocol IdempotencyStore: Sendable {
    /// Claims `key` for an attempt with `fingerprint`, or says why not. A record whose `expiresAtMs` has passed, or
    /// a lock whose `lockExpiresAtMs` has passed (its worker died), counts as absent and is replaced.
    func begin(_ claim: IdempotencyClaim) async throws -> BeginResult

    /// Stores the response of the attempt holding `token` and releases its lock. False when the lock is no
    /// longer this attempt's (it expired and another attempt took the key): nothing is stored then.
    func complete(key: String, token: String, response: StoredResponse, expiresAtMs: Int64) async throws -> Bool

    /// Moves the lock's expiry while the attempt holding `token` still runs. False when the lock is lost.
    func extendLock(key: String, token: String, until lockExpiresAtMs: Int64) async throws -> Bool

    /// Forgets the lock of an attempt that produced nothing to replay (5xx, an error): the next attempt executes.
    func release(key: String, token: String) async throws

    /// Deletes records whose TTL has passed; returns how many.
    func removeExpired(nowMs: Int64) async throws -> Int
}

/// One attempt's request to hold a key.
public struct IdempotencyClaim: Sendable {
    public var key: String
    public var fingerprint: String
    /// Identifies the attempt; `complete`, `extendLock` and `release` must present it.
    public var token: String
    public var nowMs: Int64
    public var lockExpiresAtMs: Int64
    public var expiresAtMs: Int64

    public init(key: String, fingerprint: String, token: String, nowMs: Int64, lockExpiresAtMs: Int64, expiresAtMs: Int64) {
        self.key = key
        self.fingerprint = fingerprint
        self.token = token
        self.nowMs = nowMs
        self.lockExpiresAtMs = lockExpiresAtMs
        self.expiresAtMs = expiresAtMs
    }
}

/// What ``IdempotencyStore/begin(_:)`` found.
public enum BeginResult: Sendable, Equatable {
    /// The key is this attempt's: execute. `tookOverStaleLock` when a crashed attempt's lock was replaced.
    case acquired(tookOverStaleLock: Bool)
    /// Another attempt holds the key since `firstAttemptMs`.
    case inFlight(firstAttemptMs: Int64)
    /// The key completed: replay `response`. The first attempt began at `firstAttemptMs`.
    case completed(StoredResponse, firstAttemptMs: Int64)
    /// The key was used with another request fingerprint.
    case mismatch
}

/// A response as stored for replay: status, header fields in order, body bytes.
public struct StoredResponse: Sendable, Equatable, Codable {
    public var status: Int
    public var headers: [Field]
    public var body: [UInt8]

    public struct Field: Sendable, Equatable, Codable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(status: Int, headers: [Field], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}
