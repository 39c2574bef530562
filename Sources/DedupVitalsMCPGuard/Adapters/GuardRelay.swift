import DedupVitalsCore
import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Relays the MCP stdio transport between the client (the guard's stdin and stdout) and the server (the child),
/// line by line. Every line passes as the exact bytes it came as, except the guarded `tools/call` requests that the
/// guard answers itself (replays, waits that time out, mismatches): those the server never sees.
///
/// Each direction is one thread doing blocking reads, so a slow server never delays what the client sends, and the
/// relay needs no event loop. The decision state is behind one lock, held across the outcome lookup and the decision
/// (and across storing an outcome and ending its call), so a repeat arriving while the first call ends sees either
/// the running call or the stored outcome, never neither.
final class GuardRelay: Sendable {
    private struct State {
        var policy: GuardPolicy
        var catalog = ToolCatalog()
        /// Ids of the client's `tools/list` requests, whose results teach the catalog.
        var listRequests: Set<JSONValue> = []
        /// The MCP client's name from `initialize` (protocol versions up to 2025-11-25; later ones send it with every
        /// request, in `_meta`).
        var client: String?
    }

    private let config: GuardConfig
    private let store: OutcomeStore
    private let reporter: DecisionReporter?
    private let child: StdioChild
    private let state: Mutex<State>
    /// Serialises writes to the client: server messages, replies and timed-out waits come from different threads.
    private let clientOutput = Mutex(())

    init(config: GuardConfig, store: OutcomeStore, reporter: DecisionReporter?, child: StdioChild) {
        self.config = config
        self.store = store
        self.reporter = reporter
        self.child = child
        self.state = Mutex(State(policy: GuardPolicy(service: config.service)))
    }

    // MARK: - Client to server

    /// Reads the client until end-of-file, then closes the server's input.
    func relayClient() {
        var reader = LineReader(fd: 0)
        while let line = reader.next() {
            switch fromClient(line) {
            case .forward:
                if !LineWriter.writeAll(child.input, line + [0x0A]) {
                    GuardLog.write("the server's input is closed; dropping a message from the client")
                }
            case .reply(let reply): sendToClient(Array(reply.utf8))
            case .hold: break
            }
        }
        child.closeInput()
    }

    /// What becomes of one line from the client.
    enum ClientAction {
        case forward
        /// The guard answers instead of the server.
        case reply(String)
        /// A repeat waiting for the first call: answered later.
        case hold
    }

    /// What to do with one line from the client.
    private func fromClient(_ line: ArraySlice<UInt8>) -> ClientAction {
        guard let message = JSONRPCMessage(line: line) else {
            GuardLog.write("malformed JSON-RPC from the client, relayed as it is: \(Self.excerpt(line))")
            return .forward
        }
        switch message {
        case .request(_, "initialize", let params):
            state.withLock { $0.client = params?["clientInfo"]?["name"]?.string }
        case .request(let id, "tools/list", _):
            state.withLock { _ = $0.listRequests.insert(id) }
        case .request(let id, "tools/call", let params):
            guard let tool = params?["name"]?.string else { return .forward }
            let client = params?["_meta"]?["io.modelcontextprotocol/clientInfo"]?["name"]?.string
            return guardCall(id: id, tool: tool, arguments: params?["arguments"], client: client)
        case .notification("notifications/cancelled", let params):
            if let request = params?["requestId"] { cancel(request) }
        default:
            break
        }
        return .forward
    }

    /// Decides about one `tools/call`: forwarded when not guarded or new (`miss`).
    private func guardCall(id: JSONValue, tool: String, arguments: JSONValue?, client named: String?) -> ClientAction {
        let rule = config.rule(for: tool)
        let now = Self.nowMs()
        let (guarded, decision, key, client) = state.withLock { state -> (Bool, GuardPolicy.Decision?, IntentKey?, String?) in
            guard state.catalog.isGuarded(tool, config: config) else { return (false, nil, nil, nil) }
            let key = IntentKey(tool: tool, arguments: arguments, rule: rule)
            let stored = lookup(key, nowMs: now)
            let decision = state.policy.decide(
                request: id, key: key, stored: stored, nowMs: now, waitMs: config.inFlightWait.milliseconds)
            return (true, decision, key, named ?? state.client)
        }
        guard guarded, let decision, let key else { return .forward }
        switch decision {
        case .execute:
            report(.miss, key: key, client: client, nowMs: now)
            return .forward
        case .replay(let stored):
            report(.hit, key: key, client: client, nowMs: now, ageMs: now - stored.firstMs)
            return .reply(GuardReplies.replay(request: id, stored: stored, intentKey: key))
        case .wait(let deadlineMs, let ageMs):
            report(.inFlight, key: key, client: client, nowMs: now, ageMs: ageMs)
            let delay = DispatchTimeInterval.milliseconds(Int(max(0, deadlineMs - now)))
            DispatchQueue.global().asyncAfter(deadline: .now() + delay) { [self] in expire(id, key: key) }
            return .hold
        case .mismatch(let ageMs):
            report(.mismatch, key: key, client: client, nowMs: now, ageMs: ageMs)
            return .reply(
                GuardReplies.toolError(
                    request: id, outcome: .mismatch,
                    message: "Not executed: a call of \(tool) with the same intent key but different arguments "
                        + "ran \(Self.seconds(ageMs)) ago. Use a new intent (change a key field) to run it again.",
                    intentKey: key))
        }
    }

    private func lookup(_ key: IntentKey, nowMs: Int64) -> GuardPolicy.Stored? {
        do {
            return try store.lookup(key.storeID(service: config.service), sinceMs: nowMs - config.dedupWindow.milliseconds)
        } catch {
            GuardLog.write("cannot read the outcome store (the call executes): \(error)")
            return nil
        }
    }

    /// A waiting repeat whose deadline passed: answered with a tool error, if it still waits.
    private func expire(_ request: JSONValue, key: IntentKey) {
        guard let startedMs = state.withLock({ $0.policy.release(request) }) else { return }
        let reply = GuardReplies.toolError(
            request: request, outcome: .inFlight,
            message:
                "Not executed: the same call of \(key.tool) (same intent key) started \(Self.seconds(Self.nowMs() - startedMs)) "
                + "ago and is still running; its result was not available within \(config.inFlightWait). Call again later "
                + "to get its result.",
            intentKey: key)
        sendToClient(Array(reply.utf8))
    }

    /// The client cancelled `request`: a waiting repeat stops waiting (no answer, as MCP wants for a cancelled
    /// request); a forwarded first call ends without an outcome, and its waiting repeats are told so.
    private func cancel(_ request: JSONValue) {
        let finished = state.withLock { state -> GuardPolicy.Finished? in
            if state.policy.release(request) != nil { return nil }
            return state.policy.finish(request)
        }
        guard let finished else { return }
        for waiter in finished.waiters {
            let reply = GuardReplies.toolError(
                request: waiter, outcome: .inFlight,
                message: "Not executed: the same call of \(finished.key.tool) was cancelled before it completed; "
                    + "nothing was stored. Call again to run it.",
                intentKey: finished.key)
            sendToClient(Array(reply.utf8))
        }
    }

    // MARK: - Server to client

    /// Reads the server until end-of-file (it exited or closed its output).
    func relayServer() {
        var reader = LineReader(fd: child.output)
        while let line = reader.next() {
            let followUps = fromServer(line)
            sendToClient(line + [0x0A])
            for reply in followUps { sendToClient(Array(reply.utf8)) }
        }
    }

    /// Learns from one line of the server; the replies to waiting repeats that its answer ends.
    private func fromServer(_ line: ArraySlice<UInt8>) -> [String] {
        guard let value = JSONValue(parsing: line) else {
            GuardLog.write("malformed JSON-RPC from the server, relayed as it is: \(Self.excerpt(line))")
            return []
        }
        guard case .response(let id, let result, _) = JSONRPCMessage(value) else { return [] }
        let now = Self.nowMs()
        let ended = state.withLock { state -> (GuardPolicy.Finished, GuardPolicy.Stored?, String?)? in
            if state.listRequests.remove(id) != nil, let result { state.catalog.learn(fromListResult: result) }
            var stored: GuardPolicy.Stored?
            if let result, Self.isCompleted(result), let first = state.policy.running(id) {
                let outcome = GuardPolicy.Stored(
                    fingerprint: first.key.fingerprint, result: result, firstMs: first.startedMs, completedMs: now)
                do {
                    try store.save(first.storeID, outcome)
                    stored = outcome
                } catch {
                    GuardLog.write("cannot store an outcome (a repeat will execute again): \(error)")
                }
            }
            guard let finished = state.policy.finish(id) else { return nil }
            return (finished, stored, state.client)
        }
        guard let (finished, stored, client) = ended else { return [] }
        if stored != nil { report(.completed, key: finished.key, client: client, nowMs: now) }
        return finished.waiters.map { waiter in
            if let stored { return GuardReplies.replay(request: waiter, stored: stored, intentKey: finished.key) }
            return GuardReplies.readdressed(value, to: waiter)
        }
    }

    /// Whether a `tools/call` result is an outcome to store: not a tool error (the next call should execute), and
    /// complete (not an `input_required` result of protocol 2026-07-28, which asks the client for more).
    static func isCompleted(_ result: JSONValue) -> Bool {
        result["isError"]?.bool != true && (result["resultType"]?.string ?? "complete") == "complete"
    }

    // MARK: - Output and reports

    private func sendToClient(_ bytes: [UInt8]) {
        let line = bytes.last == 0x0A ? bytes : bytes + [0x0A]
        clientOutput.withLock { _ in
            if !LineWriter.writeAll(1, line) { GuardLog.write("the client's output is closed; a message was lost") }
        }
    }

    private func report(_ outcome: Outcome, key: IntentKey, client: String?, nowMs: Int64, ageMs: Int64? = nil) {
        reporter?.record(
            Event(
                service: config.service, operation: ReportedName.of(key.tool), outcome: outcome, key: key.reported,
                payload: key.fingerprint, client: client.map(ReportedName.of), timeMs: nowMs, ageMs: ageMs))
    }

    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    static func seconds(_ ms: Int64) -> String { String(format: "%.1f s", Double(ms) / 1000) }

    /// The start of a malformed line, for the log.
    static func excerpt(_ line: ArraySlice<UInt8>) -> String {
        let text = String(decoding: line.prefix(120), as: UTF8.self)
        return line.count > 120 ? text + "..." : text
    }
}
