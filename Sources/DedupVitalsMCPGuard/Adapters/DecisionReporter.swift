import DedupVitalsCore
import DedupVitalsTerminal
import Foundation
import NIOCore
import Synchronization

/// Sends the guard's decisions to a dedup-vitals service, in batches, off the relay's path.
///
/// ``record(_:)`` only appends to a bounded buffer: the relay never waits for the service. When the buffer is full
/// (the service slow or down longer than the buffer lasts) new events are dropped and counted. Every batch has its
/// own `Idempotency-Key` and is sent again under it after a lost answer, 409, 429 or 5xx, with exponential backoff
/// (0.5 s doubling to 30 s), so a batch the service committed before its answer was lost is counted once; a batch the
/// service refuses for good (another 4xx) is dropped and counted.
public final class DecisionReporter: Sendable {
    private struct State {
        var buffer: [Event] = []
        var dropped = 0
        var sent = 0
        /// Events taken from the buffer whose batch is not settled yet.
        var sending = 0
        var failing = false
        var stopAt: ContinuousClock.Instant?
    }

    private let client: ServiceClient
    private let capacity: Int
    private let batchSize: Int
    private let interval: Duration
    private let state = Mutex(State())
    private let run = String(UInt64.random(in: .min ... .max), radix: 36)

    public init(_ report: GuardConfig.Report, token: String?) throws(ServiceClientError) {
        client = try ServiceClient(baseURL: report.url, token: token, timeout: .seconds(5))
        capacity = report.buffer
        batchSize = report.batchSize
        interval = .milliseconds(report.flushInterval.milliseconds)
    }

    /// Buffers one event; never blocks. Dropped (and counted) when the buffer is full.
    public func record(_ event: Event) {
        state.withLock { state in
            if state.buffer.count < capacity {
                state.buffer.append(event)
            } else {
                state.dropped += 1
                if state.dropped == 1 { GuardLog.write("report buffer full (\(capacity) events): dropping decisions") }
            }
        }
    }

    /// Events dropped because the buffer was full, events the service accepted or refused for good, and events not
    /// delivered yet (buffered, or in a batch still being sent).
    public var counts: (dropped: Int, sent: Int, unsent: Int) {
        state.withLock { ($0.dropped, $0.sent, $0.buffer.count + $0.sending) }
    }

    /// Sends until ``stop(drain:)``, then what is left until the drain deadline; returns early when cancelled (the
    /// guard cancels it at the deadline: a request to an unreachable service can take its whole timeout).
    public func run() async {
        var sequence = 0
        while !Task.isCancelled {
            let stopAt = state.withLock { $0.stopAt }
            if let stopAt, ContinuousClock.now >= stopAt { return }
            guard let batch = take() else {
                if stopAt != nil { return }
                try? await Task.sleep(for: interval)
                continue
            }
            sequence += 1
            await deliver(batch, key: "mcp-guard-\(run)-\(sequence)")
        }
    }

    /// Ends ``run()``: what is buffered is sent for at most `drain` more.
    public func stop(drain: Duration = .seconds(2)) {
        state.withLock { $0.stopAt = ContinuousClock.now + drain }
    }

    private func take() -> [Event]? {
        state.withLock { state in
            guard !state.buffer.isEmpty else { return nil }
            let batch = Array(state.buffer.prefix(batchSize))
            state.buffer.removeFirst(batch.count)
            state.sending += batch.count
            return batch
        }
    }

    /// Sends one batch until it is accepted or refused for good (or the drain deadline would pass while waiting).
    private func deliver(_ batch: [Event], key: String) async {
        let body = EventWireFormat.jsonArray(batch)
        var backoff = Duration.milliseconds(500)
        while true {
            let problem: String
            do {
                let answer = try await client.postEvents(body, idempotencyKey: key)
                if (200..<300).contains(answer.status) || !Self.retried.contains(answer.status) {
                    settle(batch.count, problem: (200..<300).contains(answer.status) ? nil : "refused \(answer.status)")
                    return
                }
                problem = "answered \(answer.status)"
            } catch {
                if Task.isCancelled { return }
                problem = error.description
            }
            noteFailure(problem)
            if let stopAt = state.withLock({ $0.stopAt }), ContinuousClock.now + backoff > stopAt { return }
            guard (try? await Task.sleep(for: backoff)) != nil else { return }
            backoff = min(backoff * 2, .seconds(30))
        }
    }

    private static let retried: Set<Int> = [409, 429, 500, 502, 503, 504]

    private func settle(_ count: Int, problem: String?) {
        state.withLock { state in
            state.sent += count
            state.sending -= count
            if let problem {
                GuardLog.write("dedup-vitals \(problem) a batch of \(count) decisions; dropped")
            } else if state.failing {
                state.failing = false
                GuardLog.write("reporting to dedup-vitals again")
            }
        }
    }

    private func noteFailure(_ problem: String) {
        state.withLock { state in
            if !state.failing { GuardLog.write("cannot report to dedup-vitals (\(problem)); retrying with backoff") }
            state.failing = true
        }
    }
}
