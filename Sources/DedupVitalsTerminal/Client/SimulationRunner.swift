import DedupVitalsCore
import Foundation
import NIOCore

/// Sends the events of a ``TrafficModel`` to a service in real time, in batches, honouring 429/503 `Retry-After`.
public struct SimulationRunner: Sendable {
    /// What happened, for the one-line summary.
    public struct Report: Sendable, Equatable {
        /// Events the runner tried to deliver (each counted once, however often its batch was retried).
        public var sent = 0
        /// Events the service acknowledged (202).
        public var accepted = 0
        /// Events refused for good (4xx other than 429, transport failures, or retries that ran out of time).
        public var rejected = 0
        /// Batches sent again after 429/503.
        public var retries = 0
        public var elapsedSeconds = 0.0
        /// The last refusal, for the error line.
        public var lastError: String?

        public init() {}

        /// `simulate retry-storm: sent 12000 events in 60.0s, accepted 12000, rejected 0, 0 batches retried after 429/503`.
        public func line(scenario: TrafficScenario) -> String {
            "simulate \(scenario): sent \(sent) events in \(String(format1: elapsedSeconds))s, accepted \(accepted), "
                + "rejected \(rejected), \(retries) batches retried after 429/503"
        }
    }

    public let client: ServiceClient
    public let scenario: TrafficScenario
    public let ratePerSecond: Double
    public let durationSeconds: Double
    public let batchSize: Int
    public let seed: UInt64
    /// How often generated events are flushed.
    public let tick: Duration
    /// How long a throttled batch is retried past the end of the run before it counts as rejected.
    public let retryGrace: Duration

    public init(
        client: ServiceClient, scenario: TrafficScenario, ratePerSecond: Double, durationSeconds: Double,
        batchSize: Int = 500, seed: UInt64 = 1, tick: Duration = .milliseconds(250), retryGrace: Duration = .seconds(30)
    ) {
        self.client = client
        self.scenario = scenario
        self.ratePerSecond = ratePerSecond
        self.durationSeconds = durationSeconds
        self.batchSize = max(1, batchSize)
        self.seed = seed
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
        var model = TrafficModel(scenario: scenario, ratePerSecond: ratePerSecond, durationMs: durationMs, startMs: startMs, seed: seed)
        var report = Report()
        var nextTick = started
        while !model.isFinished, !Task.isCancelled {
            nextTick = nextTick.advanced(by: tick)
            try? await Task.sleep(until: nextTick, clock: clock)
            let elapsed = started.duration(to: clock.now)
            let events = model.advance(toMs: elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
            for start in stride(from: 0, to: events.count, by: batchSize) {
                await send(Array(events[start..<min(events.count, start + batchSize)]), report: &report, deadline: deadline)
            }
        }
        let elapsed = started.duration(to: clock.now)
        report.elapsedSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return report
    }

    /// Sends one batch; retries after 429/503 (waiting `Retry-After`, 1 s when absent) until `deadline`.
    private func send(_ batch: [Event], report: inout Report, deadline: ContinuousClock.Instant) async {
        report.sent += batch.count
        let body = EventWireFormat.jsonArray(batch)
        while true {
            let answer: ServiceClient.Answer
            do {
                answer = try await client.postEvents(body)
            } catch {
                report.rejected += batch.count
                report.lastError = error.description
                return
            }
            switch answer.status {
            case 200..<300:
                report.accepted += Self.acceptedCount(answer) ?? batch.count
                return
            case 429, 503:
                let wait = Duration.milliseconds(Int64(min(30, max(0.1, answer.retryAfterSeconds ?? 1)) * 1000))
                guard ContinuousClock.now.advanced(by: wait) < deadline else {
                    report.rejected += batch.count
                    report.lastError = "gave up after \(answer.status): \(ServiceClient.errorMessage(answer.body))"
                    return
                }
                report.retries += 1
                try? await Task.sleep(for: wait)
            default:
                report.rejected += batch.count
                report.lastError = "\(client.baseURL)/v1/events answered \(answer.status): \(ServiceClient.errorMessage(answer.body))"
                return
            }
        }
    }

    private static func acceptedCount(_ answer: ServiceClient.Answer) -> Int? {
        struct Accepted: Decodable { var accepted: Int }
        return try? JSONDecoder().decode(Accepted.self, from: Data(answer.body.readableBytesView)).accepted
    }
}
