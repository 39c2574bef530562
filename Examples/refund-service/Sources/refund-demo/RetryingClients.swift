import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Clients of the refund service that behave like real ones: a timeout shorter than the slowest refunds (the answer
/// is lost, the refund may well have happened), retries with the same Idempotency-Key, exponential backoff with
/// jitter, `Retry-After` on 409, and, now and then, a buggy retry that reuses a key for another amount (422).
struct RetryingClients: Service {
    let url: String
    let clients: Int
    /// Stop after this long; nil runs until graceful shutdown.
    let duration: Duration?
    let timeoutMs: Int
    let mismatchRate: Double
    let logger: Logger

    struct Tally: Sendable {
        var orders = 0, attempts = 0, created = 0, replayed = 0, conflicts = 0, mismatches = 0, timeouts = 0, failed = 0
    }

    /// The tally, shared by the workers.
    final class Counters: Sendable {
        private let state = Mutex(Tally())

        func withLock<R>(_ body: (inout Tally) -> R) -> R { state.withLock { body(&$0) } }
    }

    func run() async throws {
        let tally = Counters()
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let deadline = duration.map { ContinuousClock.now + $0 }
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for worker in 0..<clients {
                    group.addTask { await self.work(worker, http: http, tally: tally, until: deadline) }
                }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(5))
                        self.report(tally.withLock { $0 })
                        if let deadline, ContinuousClock.now > deadline { return }
                    }
                }
            }
        }
        report(tally.withLock { $0 })
        try await http.shutdown()
    }

    private func report(_ tally: Tally) {
        logger.info("clients", metadata: [
            "orders": "\(tally.orders)", "attempts": "\(tally.attempts)", "created": "\(tally.created)",
            "replayed": "\(tally.replayed)", "conflicts_409": "\(tally.conflicts)", "mismatches_422": "\(tally.mismatches)",
            "timeouts": "\(tally.timeouts)", "failed": "\(tally.failed)",
        ])
    }

    private func work(_ worker: Int, http: HTTPClient, tally: Counters, until deadline: ContinuousClock.Instant?) async {
        var order = 0
        while !Task.isCancelled, deadline.map({ ContinuousClock.now < $0 }) ?? true {
            order += 1
            let key = UUID().uuidString
            let orderID = "order-\(worker)-\(order)"
            let amount = Int.random(in: 100...50_000)
            tally.withLock { $0.orders += 1 }
            await attempt(http: http, key: key, client: "shop_\(worker % 3)", body: #"{"order":"\#(orderID)","amount":\#(amount)}"#, tally: tally)
            if Double.random(in: 0..<1) < mismatchRate {
                // A client bug: the key reused for another amount.
                await attempt(http: http, key: key, client: "shop_\(worker % 3)", body: #"{"order":"\#(orderID)","amount":\#(amount + 1)}"#, tally: tally)
            }
            try? await Task.sleep(for: .milliseconds(Int.random(in: 100...500)))
        }
    }

    /// Sends one order until it gets a final answer, at most 8 attempts.
    private func attempt(http: HTTPClient, key: String, client: String, body: String, tally: Counters) async {
        for retry in 0..<8 {
            if Task.isCancelled { return }
            tally.withLock { $0.attempts += 1 }
            var request = HTTPClientRequest(url: url + "/refunds")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "Idempotency-Key", value: key)
            request.headers.add(name: "X-Client-Id", value: client)
            request.body = .bytes(ByteBuffer(string: body))
            var wait = Duration.milliseconds(Int(200 * pow(2.0, Double(retry)) * Double.random(in: 0.5...1.0)))
            do {
                let response = try await http.execute(request, timeout: .milliseconds(Int64(timeoutMs)))
                _ = try await response.body.collect(upTo: 1 << 16)
                switch response.status.code {
                case 200..<300:
                    let replayed = response.headers.first(name: "Idempotent-Replayed") == "true"
                    tally.withLock { replayed ? ($0.replayed += 1) : ($0.created += 1) }
                    return
                case 409:
                    tally.withLock { $0.conflicts += 1 }
                    if let seconds = response.headers.first(name: "Retry-After").flatMap(Int.init) { wait = .seconds(seconds) }
                case 422:
                    tally.withLock { $0.mismatches += 1 }
                    return
                case 400..<500:
                    tally.withLock { $0.failed += 1 }
                    return
                default:
                    break  // 5xx: retry
                }
            } catch {
                tally.withLock { $0.timeouts += 1 }
            }
            try? await Task.sleep(for: wait)
        }
        tally.withLock { $0.failed += 1 }
    }
}
