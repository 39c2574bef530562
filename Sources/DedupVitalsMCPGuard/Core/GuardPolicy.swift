/// The decisions of the guard about guarded `tools/call` requests, without I/O: the relay looks up the stored outcome,
/// asks ``decide(request:key:stored:nowMs:waitMs:)``, and does what the decision says.
///
/// Only calls running in this process are held here (in memory: a call runs as long as the server's answer takes,
/// and a restarted guard has no running calls); completed outcomes live in the ``OutcomeStore``.
public struct GuardPolicy: Sendable {
    /// A completed call: what a repeat within the window gets.
    public struct Stored: Sendable, Equatable {
        public var fingerprint: String
        /// The `result` member of the server's answer.
        public var result: JSONValue
        public var firstMs: Int64
        public var completedMs: Int64

        public init(fingerprint: String, result: JSONValue, firstMs: Int64, completedMs: Int64) {
            self.fingerprint = fingerprint
            self.result = result
            self.firstMs = firstMs
            self.completedMs = completedMs
        }
    }

    public enum Decision: Sendable, Equatable {
        /// New key: forward the call to the server (`miss`).
        case execute
        /// Completed within the window: answer with the stored result (`hit`).
        case replay(Stored)
        /// The first call still runs: hold this one until it ends or `deadlineMs` passes (`in_flight`).
        case wait(deadlineMs: Int64, ageMs: Int64)
        /// Same key, different other arguments: refuse (`mismatch`).
        case mismatch(ageMs: Int64)
    }

    /// A call forwarded to the server, with the repeats waiting for its answer.
    struct Running: Sendable {
        var request: JSONValue
        var key: IntentKey
        var startedMs: Int64
        var waiters: [JSONValue] = []
    }

    /// What the end of a forwarded call means.
    public struct Finished: Sendable, Equatable {
        public var key: IntentKey
        public var startedMs: Int64
        /// The repeats that waited for it, to be answered now.
        public var waiters: [JSONValue]
    }

    private var running: [String: Running] = [:]
    /// Request id → the store id of the running call it forwarded or waits for.
    private var forwarded: [JSONValue: String] = [:]
    private var waiting: [JSONValue: String] = [:]
    private let service: String

    public init(service: String) { self.service = service }

    /// The decision for a guarded call `request` with `key`; `stored` is the completed outcome of the key within the
    /// window, if any.
    public mutating func decide(
        request: JSONValue, key: IntentKey, stored: Stored?, nowMs: Int64, waitMs: Int64
    ) -> Decision {
        let id = key.storeID(service: service)
        if var first = running[id] {
            let age = nowMs - first.startedMs
            guard first.key.fingerprint == key.fingerprint else { return .mismatch(ageMs: age) }
            first.waiters.append(request)
            running[id] = first
            waiting[request] = id
            return .wait(deadlineMs: nowMs + waitMs, ageMs: age)
        }
        if let stored {
            let age = nowMs - stored.firstMs
            return stored.fingerprint == key.fingerprint ? .replay(stored) : .mismatch(ageMs: age)
        }
        running[id] = Running(request: request, key: key, startedMs: nowMs)
        forwarded[request] = id
        return .execute
    }

    /// The guarded call `request` forwarded to the server and still running (its answer ends it); nil for any other
    /// request.
    public func running(_ request: JSONValue) -> (storeID: String, key: IntentKey, startedMs: Int64)? {
        guard let id = forwarded[request], let first = running[id] else { return nil }
        return (id, first.key, first.startedMs)
    }

    /// The server answered the forwarded call `request` (or the client cancelled it): it no longer runs; its waiters
    /// are answered by the caller. Nil when `request` was not a forwarded guarded call.
    public mutating func finish(_ request: JSONValue) -> Finished? {
        guard let id = forwarded.removeValue(forKey: request), let first = running.removeValue(forKey: id) else {
            return nil
        }
        for waiter in first.waiters { waiting[waiter] = nil }
        return Finished(key: first.key, startedMs: first.startedMs, waiters: first.waiters)
    }

    /// Stops holding the waiting repeat `request` (its deadline passed, or the client cancelled it); the first call's
    /// start when it was still waiting, nil when it was already answered.
    public mutating func release(_ request: JSONValue) -> Int64? {
        guard let id = waiting.removeValue(forKey: request), var first = running[id] else { return nil }
        first.waiters.removeAll { $0 == request }
        running[id] = first
        return first.startedMs
    }
}
