import DedupVitalsCore
import Foundation
import NIOCore

/// Sends the events of a ``TrafficModel`` to a service in real time, in batches, honouring `Retry-After` on 409, 429
/// and 502/503/504.
///
/// Every batch carries its own `Idempotency-Key`, so a batch sent again after its answer was lost (a timeout, a
/// closed connection) is counted once by the service that already committed it.
///
/// Every request holds the events of one service and names it in ``ServiceClient/shardHeader``, so the same run works
/// against one instance and against a proxy that shards by service (deploy/haproxy/haproxy.cfg). 502 and 504 come from
/// such a proxy when an instance fails mid-request; the batch is sent again, and lands on the instance that took
/// over the service.
public struct SimulationRunner: Sendable {
    /// What happened, for the one-line summary.
    public struct Report: Sendable, Equatable {
        /// Events the runner tried to deliver (each counted once, however often its batch was retried).
        public var sent = 0
        /// Events the service acknowledged (202).
        public var accepted = 0
        /// Events refused for good (4xx other than 409/429, no connection, or retries that ran out of time).
        public var rejected = 0
        /// Batches sent again after 409/429/502/503/504 or a lost answer.
        public var retries = 0
        public var elapsedSeconds = 0.0
        /// The last refusal, for the error line.
        public var lastError: String?

        public init() {}

        /// `simulate retry-storm: sent 12000 events in 60.0s, accepted 12000, rejected 0, 0 batches retried`.
        public func line(scenario: TrafficScenario) -> String {
            "simulate \(scenario): sent \(sent) events in \(String(format1: elapsedSeconds))s, accepted \(accepted), "
                + "rejected \(rejected), \(retries) batches retried"
        }
    }

    public let client: ServiceClient
    public let scenario: TrafficScenario
    public let ratePerSecond: Double
    public let durationSeconds: Double
    public let batchSize: Int
    public let seed: UInt64
    /// Copies of the simulated fleet, each with its own seed and an equal share of the rate. With more than one, copy
    /// `i`'s services are named `<service>-<i>` (`payments-1`, `payments-2`, ...): many services, e.g. to spread a
    /// run over the shards of a sharding proxy.
    public let fleets: Int
    /// How often generated events are flushed.
    public let tick: Duration
    /// How long a throttled batch is retried past the end of the run before it counts as rejected.
    public let retryGrace: Duration

    public init(
        client: ServiceClient, scenario: TrafficScenario, ratePerSecond: Double, durationSeconds: Double,
        batchSize: Int = 500, seed: UInt64 = 1, fleets: Int = 1, tick: Duration = .milliseconds(250),
        retryGrace: Duration = .seconds(30)
    ) {
        self.client = client
        self.scenario = scenario
        self.ratePerSecond = ratePerSecond
        self.durationSeconds = durationSeconds
        self.batchSize = max(1, batchSize)
        self.seed = seed
        self.fleets = max(1, fleets)
        self.tick = tick
        self.retryGrace = retryGrace
    }

    /// Runs for the whole duration and reports.
    public func run() async -> Report {
        let clock = ContinuousClock()
        let started = clock.now
        let startMs = Int64(Date().timeIntervalSince1970 * 1000)
        let durationMs = Int64(durationSeconds * 1000)
        let deadline = started + .milliseconds(durationMs) + retryGrace
        var models = (0..<fleets).map { index in
            TrafficModel(
                scenario: scenario, ratePerSecond: ratePerSecond / Double(fleets), durationMs: durationMs, startMs: startMs,
                seed: seed &+ UInt64(index))
        }
        var report = Report()
        var batches = BatchKeys()
        var nextTick = started
        while models.contains(where: { !$0.isFinished }), !Task.isCancelled {
            nextTick = nextTick.advanced(by: tick)
            try? await Task.sleep(until: nextTick, clock: clock)
            let elapsed = started.duration(to: clock.now)
            let offsetMs = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
            var events: [Event] = []
            for index in models.indices {
                let due = models[index].advance(toMs: offsetMs)
                events += fleets == 1 ? due : due.map { Self.renamed($0, fleet: index + 1) }
            }
            var unsent = events.count
            sending: for (service, serviceEvents) in Self.byService(events) {
                for start in stride(from: 0, to: serviceEvents.count, by: batchSize) {
                    let batch = Array(serviceEvents[start..<min(serviceEvents.count, start + batchSize)])
                    unsent -= batch.count
                    let key = batches.next()
                    guard await send(batch, shard: service, key: key, report: &report, deadline: deadline) else {
                        // Unreachable: the tick's other batches would wait out the same timeout one by one.
                        report.sent += unsent
                        report.rejected += unsent
                        break sending
                    }
                }
            }
        }
        let elapsed = started.duration(to: clock.now)
        report.elapsedSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return report
    }

    /// Sends one batch of one service under its `Idempotency-Key`; retries after 409/429/502/503/504 (waiting
    /// `Retry-After`, 1 s when absent) and after a lost answer, until `deadline`. The key makes a retry count once on
    /// the instance that committed the first attempt; a 502/504 from a proxy whose instance died after committing
    /// sends the retry to another instance, which counts it again: at least once there, never lost. Returns false
    /// when the service could not be reached at all.
    private func send(
        _ batch: [Event], shard: String, key: String, report: inout Report, deadline: ContinuousClock.Instant
    ) async -> Bool {
        report.sent += batch.count
        let body = EventWireFormat.jsonArray(batch)
        while true {
            let status: Int
            let wait: Duration
            let problem: String
            do {
                let answer = try await client.postEvents(body, shard: shard, idempotencyKey: key)
                status = answer.status
                wait = .milliseconds(Int64(min(30, max(0.1, answer.retryAfterSeconds ?? 1)) * 1000))
                problem = "\(client.baseURL)/v1/events answered \(status): \(ServiceClient.errorMessage(answer.body))"
                if (200..<300).contains(status) {
                    report.accepted += Self.acceptedCount(answer) ?? batch.count
                    return true
                }
            } catch .noAnswer(let url, let reason) {
                status = 0
                wait = .milliseconds(100)
                problem = ServiceClientError.noAnswer(url: url, reason: reason).description
            } catch {
                report.rejected += batch.count
                report.lastError = error.description
                return false
            }
            guard [0, 409, 429, 502, 503, 504].contains(status) else {
                report.rejected += batch.count
                report.lastError = problem
                return true
            }
            guard ContinuousClock.now.advanced(by: wait) < deadline else {
                report.rejected += batch.count
                report.lastError = "gave up: \(problem)"
                return true
            }
            report.retries += 1
            try? await Task.sleep(for: wait)
        }
    }

    /// `Idempotency-Key`s of one run's batches: a random run id and a sequence number, so that two runs (or two
    /// copies of `simulate`) never share a key.
    struct BatchKeys {
        private let run = (0..<4).map { _ in String(UInt32.random(in: .min ... .max), radix: 16) }.joined()
        private var sequence = 0

        mutating func next() -> String {
            sequence += 1
            return "simulate-\(run)-\(sequence)"
        }
    }

    /// The events grouped by service, services in order of first appearance, events in their order.
    static func byService(_ events: [Event]) -> [(service: String, events: [Event])] {
        var groups: [(service: String, events: [Event])] = []
        var index: [String: Int] = [:]
        for event in events {
            if let position = index[event.service] {
                groups[position].events.append(event)
            } else {
                index[event.service] = groups.count
                groups.append((event.service, [event]))
            }
        }
        return groups
    }

    /// The event as fleet copy `fleet` reports it: its service suffixed `-<fleet>`.
    static func renamed(_ event: Event, fleet: Int) -> Event {
        var copy = event
        copy.service += "-\(fleet)"
        return copy
    }

    private static func acceptedCount(_ answer: ServiceClient.Answer) -> Int? {
        struct Accepted: Decodable { var accepted: Int }
        return try? JSONDecoder().decode(Accepted.self, from: Data(answer.body.readableBytesView)).accepted
    }
}
