import DedupVitalsCore

/// Which events a simulated fleet of services emits over time: a pure, seeded, deterministic model.
///
/// Logical requests arrive at random times; each request expands into a plan of events (its `miss`, later its
/// `completed`, retries that become `hit` or `in_flight` depending on when they arrive, ...) shaped by the scenario.
/// ``advance(toMs:)`` returns the events that happen up to a point in time, in time order. The number of events per
/// second follows `ratePerSecond` on average.
public struct TrafficModel: Sendable {
    /// The simulated series and their share of the traffic.
    public static let series: [(SeriesKey, Double)] = [
        (SeriesKey(service: "payments", operation: "refund"), 3),
        (SeriesKey(service: "payments", operation: "capture"), 3),
        (SeriesKey(service: "tickets", operation: "create_ticket"), 2),
        (SeriesKey(service: "agents", operation: "tool.call"), 3),
        (SeriesKey(service: "email", operation: "send_receipt"), 1),
    ]
    /// The simulated upstream callers and their share of the traffic.
    public static let clients: [(String, Double)] = [
        ("checkout-web", 4), ("mobile-ios", 3), ("billing-cron", 1), ("support-desk", 1), ("agent-runner", 2),
    ]

    public let scenario: TrafficScenario
    public let ratePerSecond: Double
    public let durationMs: Int64
    /// Wall-clock time of the simulation's start; event times are `startMs + offset`.
    public let startMs: Int64

    private var random: SeededGenerator
    private var pending: [Planned] = []
    private var generatedUntilMs: Int64 = 0
    private var budget: Double = 0
    private var sequence = 0
    private var order = 0

    private struct Planned {
        var event: Event
        var order: Int
    }

    public init(scenario: TrafficScenario, ratePerSecond: Double, durationMs: Int64, startMs: Int64, seed: UInt64 = 1) {
        self.scenario = scenario
        self.ratePerSecond = max(0, ratePerSecond)
        self.durationMs = max(0, durationMs)
        self.startMs = startMs
        self.random = SeededGenerator(seed: seed)
    }

    /// Whether every event of the run has been returned.
    public var isFinished: Bool { generatedUntilMs >= durationMs && pending.isEmpty }

    /// How strongly the retry storm rages at `offsetMs` into the run, 0...1: calm for the first 10 %, ramping up
    /// until 40 %, holding until 60 %, recovering until 85 %, calm again afterwards.
    public func stormIntensity(atMs offsetMs: Int64) -> Double {
        guard durationMs > 0 else { return 0 }
        let x = Double(offsetMs) / Double(durationMs)
        switch x {
        case ..<0.10: return 0
        case ..<0.40: return (x - 0.10) / 0.30
        case ..<0.60: return 1
        case ..<0.85: return 1 - (x - 0.60) / 0.25
        default: return 0
        }
    }

    /// The events that happen from the previous call up to `offsetMs` into the run (inclusive), in time order.
    /// Events planned at or after the end of the run are never returned.
    public mutating func advance(toMs offsetMs: Int64) -> [Event] {
        let target = min(offsetMs, durationMs)
        while generatedUntilMs < target {
            let stepEnd = min(target, generatedUntilMs + 10)
            budget += ratePerSecond * Double(stepEnd - generatedUntilMs) / 1000
            while budget > 0 {
                let plan = makePlan(atMs: random.int(generatedUntilMs...(stepEnd - 1)))
                budget -= Double(plan.count)
                for event in plan where event.timeMs - startMs < durationMs {
                    pending.append(Planned(event: event, order: order))
                    order += 1
                }
            }
            generatedUntilMs = stepEnd
        }
        pending.sort { ($0.event.timeMs, $0.order) < ($1.event.timeMs, $1.order) }
        let cutoff = startMs + target
        let due = pending.prefix { $0.event.timeMs <= cutoff }
        pending.removeFirst(due.count)
        return due.map(\.event)
    }

    // MARK: - Plans

    private mutating func makePlan(atMs t: Int64) -> [Event] {
        sequence += 1
        let series = random.weighted(Self.series)
        let client = random.weighted(Self.clients)
        let key = "\(client)-\(String(sequence, radix: 36))-\(String(random.next() & 0xFFFF, radix: 16))"
        var plan = RequestPlan(series: series, client: client, key: key, payload: fingerprint(), startMs: startMs)
        let isFocus = series == scenario.focus
        var latency = random.int(20...250)

        switch scenario {
        case .retryStorm:
            let heat = stormIntensity(atMs: t) * (isFocus ? 1 : 0.25)
            latency = Int64(Double(latency) * (1 + 30 * heat))
            plan.miss(at: t)
            plan.complete(at: t + latency)
            let retries: Int64 = random.chance(0.1 + 0.85 * heat) ? random.int(1...Int64(1 + 4 * heat)) : 0
            var retryAt = t
            for _ in 0..<retries {
                retryAt += random.int(100...1500)
                plan.retry(at: retryAt)
            }
        case .stuckLocks where isFocus && random.chance(0.15):
            plan.miss(at: t)
            var retryAt = t
            for _ in 0..<(random.chance(0.6) ? random.int(1...3) : 0) {
                retryAt += random.int(1000...20_000)
                plan.retry(at: retryAt)
            }
        case .doubleExecution where isFocus && random.chance(0.10):
            plan.miss(at: t)
            plan.complete(at: t + latency)
            let second = t + latency + random.int(500...5000)
            plan.miss(at: second)
            plan.complete(at: second + random.int(20...250))
        case .narrowKeys where isFocus && random.chance(0.35):
            plan.miss(at: t)
            plan.complete(at: t + latency)
            var retryAt = t + latency
            for attempt in 1...random.int(1...2) {
                retryAt += random.int(300...3000)
                plan.retryUnderFreshKey("\(key)-r\(attempt)", at: retryAt, latency: random.int(20...250))
            }
        default:
            plan.miss(at: t)
            plan.complete(at: t + latency)
            if random.chance(0.03) { plan.retry(at: t + random.int(50...3000)) }
            if random.chance(0.004) { plan.mismatch(at: t + random.int(100...2000), payload: fingerprint()) }
        }
        return plan.events
    }

    private mutating func fingerprint() -> String {
        let high = String(random.next(), radix: 16)
        return "sha256:" + String(repeating: "0", count: 16 - high.count) + high
    }
}

/// The events of one logical request, built step by step.
private struct RequestPlan {
    let series: SeriesKey
    let client: String
    let key: String
    let payload: String
    let startMs: Int64
    private(set) var events: [Event] = []
    private var firstMissMs: Int64?
    private var completedMs: Int64?

    init(series: SeriesKey, client: String, key: String, payload: String, startMs: Int64) {
        self.series = series
        self.client = client
        self.key = key
        self.payload = payload
        self.startMs = startMs
    }

    mutating func miss(at t: Int64) {
        if firstMissMs == nil { firstMissMs = t }
        add(.miss, at: t)
    }

    mutating func complete(at t: Int64) {
        completedMs = t
        add(.completed, at: t)
    }

    /// A retry under the same key: `in_flight` while the first attempt runs (or never finishes), `hit` afterwards.
    mutating func retry(at t: Int64) {
        let outcome: Outcome = if let completedMs, completedMs < t { .hit } else { .inFlight }
        add(outcome, at: t, age: t - (firstMissMs ?? t))
    }

    /// The same key with a different payload.
    mutating func mismatch(at t: Int64, payload other: String) {
        add(.mismatch, at: t, age: t - (firstMissMs ?? t), payload: other)
    }

    /// A retry that the client sent under a new key: the dedup layer sees a brand-new request with the same payload.
    mutating func retryUnderFreshKey(_ freshKey: String, at t: Int64, latency: Int64) {
        add(.miss, at: t, key: freshKey)
        add(.completed, at: t + latency, key: freshKey)
    }

    private mutating func add(_ outcome: Outcome, at t: Int64, age: Int64? = nil, key: String? = nil, payload: String? = nil) {
        events.append(
            Event(
                service: series.service, operation: series.operation, outcome: outcome, key: key ?? self.key,
                payload: payload ?? self.payload, client: client, timeMs: startMs + t, ageMs: age))
    }
}
