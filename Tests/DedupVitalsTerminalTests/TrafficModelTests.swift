import DedupVitalsCore
import Testing

@testable import DedupVitalsTerminal

@Suite("Traffic model of dedup-vitals simulate")
struct TrafficModelTests {
    static let startMs: Int64 = 1_790_000_000_000

    /// Every event of a whole run, advanced in 250 ms steps like the sender does.
    static func run(_ scenario: TrafficScenario, rate: Double = 200, seconds: Int64 = 60, seed: UInt64 = 7) -> [Event] {
        var model = TrafficModel(
            scenario: scenario, ratePerSecond: rate, durationMs: seconds * 1000, startMs: startMs, seed: seed)
        var events: [Event] = []
        var t: Int64 = 0
        while !model.isFinished {
            t += 250
            events += model.advance(toMs: t)
        }
        return events
    }

    static func byKey(_ events: [Event]) -> [String: [Event]] {
        Dictionary(grouping: events) { $0.key ?? "" }
    }

    static func ratio(_ events: [Event], _ series: SeriesKey, from: Double, to: Double, seconds: Int64 = 60) -> Double {
        var counts = OutcomeCounts.zero
        for event in events where event.series == series {
            let x = Double(event.timeMs - startMs) / Double(seconds * 1000)
            if x >= from, x < to { counts[event.outcome] += 1 }
        }
        return counts.duplicateRatio
    }

    @Test("the same seed gives the same traffic; another seed different traffic")
    func deterministic() {
        #expect(Self.run(.retryStorm, seconds: 10) == Self.run(.retryStorm, seconds: 10))
        #expect(Self.run(.retryStorm, seconds: 10) != Self.run(.retryStorm, seconds: 10, seed: 8))
    }

    @Test("events come in time order, inside the run, at the requested rate, from several services, operations and clients")
    func shape() {
        for scenario in TrafficScenario.allCases {
            let events = Self.run(scenario)
            #expect(zip(events, events.dropFirst()).allSatisfy { $0.timeMs <= $1.timeMs }, "\(scenario)")
            #expect(events.allSatisfy { $0.timeMs >= Self.startMs && $0.timeMs < Self.startMs + 60_000 })
            #expect(abs(Double(events.count) - 12_000) < 1_200, "\(scenario): \(events.count) events for 200/s over 60 s")
            #expect(Set(events.map(\.service)).count >= 4 && Set(events.map(\.series)).count == 5)
            #expect(Set(events.compactMap(\.client)).count >= 4)
            #expect(events.allSatisfy { $0.key != nil && $0.payload != nil })
        }
    }

    @Test("steady: low duplicate ratio and every miss is completed later under its key")
    func steady() {
        let events = Self.run(.steady)
        var counts = OutcomeCounts.zero
        for event in events { counts[event.outcome] += 1 }
        #expect(counts.duplicateRatio > 0 && counts.duplicateRatio < 0.06)
        for (_, keyEvents) in Self.byKey(events) {
            guard let miss = keyEvents.first(where: { $0.outcome == .miss }), miss.timeMs < Self.startMs + 59_000 else {
                continue
            }
            #expect(keyEvents.contains { $0.outcome == .completed && $0.timeMs > miss.timeMs })
        }
    }

    @Test("retry-storm: duplicates and in-flight conflicts ramp up, hold, then recover")
    func retryStorm() {
        let events = Self.run(.retryStorm)
        let focus = TrafficScenario.retryStorm.focus!
        let calm = Self.ratio(events, focus, from: 0, to: 0.1)
        let storm = Self.ratio(events, focus, from: 0.4, to: 0.6)
        let after = Self.ratio(events, focus, from: 0.9, to: 1)
        #expect(calm < 0.15 && after < 0.15)
        #expect(storm > 0.5, "storm ratio \(storm)")
        let ramp = Self.ratio(events, focus, from: 0.2, to: 0.3)
        #expect(ramp > calm && ramp < storm)
        let inFlight = events.filter { $0.outcome == .inFlight && $0.series == focus }
        #expect(inFlight.count > 100)
        #expect(inFlight.allSatisfy { ($0.ageMs ?? -1) > 0 }, "retries carry their age")
    }

    @Test("stuck-locks: misses whose key never completes, with in-flight retries")
    func stuckLocks() {
        let events = Self.run(.stuckLocks)
        let stuck = Self.byKey(events).values.filter { keyEvents in
            keyEvents[0].outcome == .miss && keyEvents[0].timeMs < Self.startMs + 30_000
                && !keyEvents.contains { $0.outcome == .completed }
        }
        #expect(stuck.count > 50)
        #expect(stuck.allSatisfy { $0[0].series == TrafficScenario.stuckLocks.focus })
        #expect(stuck.contains { $0.contains { $0.outcome == .inFlight } })
    }

    @Test("double-execution: keys that miss twice")
    func doubleExecution() {
        let twice = Self.byKey(Self.run(.doubleExecution)).values.filter { $0.filter { $0.outcome == .miss }.count == 2 }
        #expect(twice.count > 50)
        #expect(twice.allSatisfy { $0[0].series == TrafficScenario.doubleExecution.focus })
    }

    @Test("narrow-keys: one payload fingerprint under several keys")
    func narrowKeys() {
        let events = Self.run(.narrowKeys)
        let keysPerPayload = Dictionary(grouping: events.filter { $0.outcome == .miss }) { $0.payload ?? "" }
            .mapValues { Set($0.compactMap(\.key)).count }
        let narrow = keysPerPayload.values.filter { $0 >= 2 }
        #expect(narrow.count > 100)
    }

    @Test("events written by EventWireFormat decode back to the same events")
    func wireRoundTrip() throws {
        var events = Array(Self.run(.retryStorm, seconds: 5).prefix(300))
        events.append(
            Event(service: "s", operation: "o", outcome: .hit, key: "quote\"back\\slash\u{1}é", timeMs: Self.startMs, ageMs: 5))
        let body = EventWireFormat.jsonArray(events)
        let decoded = try EventDecoder().decode(body, format: .json, nowMs: Self.startMs + 5_000)
        #expect(decoded == events)
    }

    @Test("storm intensity profile")
    func intensity() {
        let model = TrafficModel(scenario: .retryStorm, ratePerSecond: 1, durationMs: 100_000, startMs: 0)
        #expect(model.stormIntensity(atMs: 5_000) == 0)
        #expect(abs(model.stormIntensity(atMs: 25_000) - 0.5) < 1e-9)
        #expect(model.stormIntensity(atMs: 50_000) == 1)
        #expect(model.stormIntensity(atMs: 95_000) == 0)
    }
}
