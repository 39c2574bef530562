import DedupVitalsCore
import Testing

/// The pure rule evaluation and state machine, over hand-made signals.
@Suite struct AlertEvaluationTests {
    static let refund = SeriesKey(service: "payments", operation: "refund")
    static let ticket = SeriesKey(service: "tickets", operation: "create_ticket")
    static let t0: Int64 = 1_800_000_000_000

    static func signals(
        _ counts: OutcomeCounts, series: SeriesKey = refund, window: PromDuration = .minutes(5),
        baseline: (PromDuration, OutcomeCounts)? = nil, stale: Int64 = 0, doubles: Int64 = 0
    ) -> SeriesSignals {
        var all = [window: counts]
        if let baseline { all[baseline.0] = baseline.1 }
        return SeriesSignals(series: series, counts: all, staleInFlightKeys: stale, doubleExecutions: [window: doubles])
    }

    static let spike = OutcomeCounts(miss: 20, hit: 80)
    static let calm = OutcomeCounts(miss: 95, hit: 5)

    static func rule(_ kind: AlertRuleKind = .duplicateRatio, above: Double = 0.1) -> AlertRule {
        AlertRule(name: "Spike", kind: kind, window: .minutes(5), above: above, labels: ["severity": "warning"])
    }

    static func run(
        _ rules: [AlertRule], _ signals: [SeriesSignals], _ previous: [AlertInstance] = [], at nowMs: Int64 = t0,
        repeatMs: Int64 = 4 * 3_600_000
    ) -> AlertEvaluation {
        AlertEvaluation.evaluate(rules: rules, signals: signals, previous: previous, nowMs: nowMs, repeatIntervalMs: repeatMs)
    }

    @Test func firesAtOnceWithoutForAndResolvesWhenTheConditionIsFalseOnce() {
        let fired = Self.run([Self.rule()], [Self.signals(Self.spike)])
        #expect(fired.instances.map(\.state) == [.firing])
        #expect(fired.transitions.map(\.reason) == [.firing])
        #expect(
            fired.instances[0].labels == [
                "alertname": "Spike", "service": "payments", "operation": "refund", "severity": "warning",
            ])
        #expect(fired.instances[0].value == 0.8)

        let still = Self.run([Self.rule()], [Self.signals(Self.spike)], fired.instances, at: Self.t0 + 15_000)
        #expect(still.transitions.isEmpty)
        #expect(still.instances[0].startsAtMs == Self.t0)

        let resolved = Self.run([Self.rule()], [Self.signals(Self.calm)], still.instances, at: Self.t0 + 30_000)
        #expect(resolved.instances.map(\.state) == [.resolved])
        #expect(resolved.instances[0].endsAtMs == Self.t0 + 30_000)
        #expect(resolved.transitions.map(\.reason) == [.resolved])

        let later = Self.run([Self.rule()], [Self.signals(Self.calm)], resolved.instances, at: Self.t0 + 16 * 60_000)
        #expect(later.instances.isEmpty)
        #expect(later.removed.count == 1)
    }

    @Test func forKeepsTheInstancePendingUntilTheConditionHeldLongEnough() {
        var rule = Self.rule()
        rule.forDuration = .minutes(2)
        let first = Self.run([rule], [Self.signals(Self.spike)])
        #expect(first.instances.map(\.state) == [.pending])
        #expect(first.transitions.isEmpty)
        let early = Self.run([rule], [Self.signals(Self.spike)], first.instances, at: Self.t0 + 119_000)
        #expect(early.instances.map(\.state) == [.pending])
        let due = Self.run([rule], [Self.signals(Self.spike)], early.instances, at: Self.t0 + 120_000)
        #expect(due.instances.map(\.state) == [.firing])
        #expect(due.instances[0].activeAtMs == Self.t0)
        #expect(due.instances[0].startsAtMs == Self.t0 + 120_000)
        // A pending instance whose condition stops holding is dropped without a notification.
        let dropped = Self.run([rule], [Self.signals(Self.calm)], early.instances, at: Self.t0 + 60_000)
        #expect(dropped.instances.isEmpty)
        #expect(dropped.transitions.isEmpty)
    }

    @Test func minAttemptsIgnoresQuietSeries() {
        var rule = Self.rule()
        let few = OutcomeCounts(miss: 2, hit: 8)
        #expect(Self.run([rule], [Self.signals(few)]).instances.count == 1)
        rule.minAttempts = 50
        #expect(Self.run([rule], [Self.signals(few)]).instances.isEmpty)
        #expect(Self.run([rule], [Self.signals(Self.spike)]).instances.count == 1)
    }

    @Test func baselineRequiresTheValueToExceedFactorTimesTheLongerWindow() {
        var rule = Self.rule()
        rule.baseline = .init(window: .hours(1), factor: 3)
        // 80% now; 50% over the hour: 0.8 < 3 × 0.5, so no alert — duplicates are normal for this series.
        let usual = Self.signals(Self.spike, baseline: (.hours(1), OutcomeCounts(miss: 500, hit: 500)))
        #expect(Self.run([rule], [usual]).instances.isEmpty)
        // 80% now; 10% over the hour: a spike.
        let unusual = Self.signals(Self.spike, baseline: (.hours(1), OutcomeCounts(miss: 900, hit: 100)))
        #expect(Self.run([rule], [unusual]).instances.count == 1)
        rule.baseline = nil
        #expect(Self.run([rule], [usual]).instances.count == 1)
    }

    @Test func matchFiltersSeries() {
        var rule = Self.rule()
        let both = [Self.signals(Self.spike, series: Self.refund), Self.signals(Self.spike, series: Self.ticket)]
        #expect(Self.run([rule], both).instances.count == 2)
        rule.match = ["service": "tickets"]
        #expect(Self.run([rule], both).instances.map(\.key.series) == [Self.ticket])
        rule.match = ["service": "tickets", "operation": "refund"]
        #expect(Self.run([rule], both).instances.isEmpty)
    }

    @Test func staleInFlightFiresOnTheStaleKeyGauge() {
        var rule = AlertRule(name: "Stale", kind: .staleInFlight, window: .minutes(5), above: 2)
        rule.annotations = ["description": "{{ $value }} stale keys"]
        #expect(Self.run([rule], [Self.signals(Self.calm, stale: 2)]).instances.isEmpty)
        let fired = Self.run([rule], [Self.signals(Self.calm, stale: 3)])
        #expect(fired.instances.map(\.state) == [.firing])
        #expect(fired.instances[0].value == 3)
        #expect(fired.instances[0].annotations["description"] == "3 stale keys")
        // Baseline does not apply to count kinds; min_attempts still scopes by attempts in the window.
        rule.minAttempts = 1000
        #expect(Self.run([rule], [Self.signals(Self.calm, stale: 3)]).instances.isEmpty)
    }

    @Test func doubleExecutionFiresOnAnyDoubleExecutionInTheWindowByDefault() {
        let rule = AlertRule(name: "Double", kind: .doubleExecution, window: .minutes(5))
        #expect(rule.above == 0)
        #expect(Self.run([rule], [Self.signals(Self.calm, doubles: 0)]).instances.isEmpty)
        let fired = Self.run([rule], [Self.signals(Self.calm, doubles: 1)])
        #expect(fired.instances.map(\.state) == [.firing])
        #expect(fired.instances[0].value == 1)
        // Double executions counted in another window do not count.
        let elsewhere = SeriesSignals(series: Self.refund, counts: [.minutes(5): Self.calm], doubleExecutions: [.hours(1): 4])
        #expect(Self.run([rule], [elsewhere]).instances.isEmpty)
    }

    @Test func doubleExecutionAlertsNameTheTraceOfTheLatestOne() throws {
        let trace = try #require(TraceContext(traceHigh: 0x4bf9_2f35_77b3_4da6, traceLow: 0xa3ce_929d_0e0e_4736))
        var signal = Self.signals(.zero, doubles: 1)
        signal.latestDoubleExecution = TracedMoment(trace: trace, timeMs: Self.t0)
        var rule = Self.rule(.doubleExecution, above: 0)
        rule.annotations = ["trace_url": "https://tempo.example/trace/{{ $trace_id }}"]
        let fired = Self.run([rule], [signal])
        #expect(
            fired.instances[0].annotations == [
                "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
                "trace_url": "https://tempo.example/trace/4bf92f3577b34da6a3ce929d0e0e4736",
            ])
        // Without a traced double execution the annotation is absent and the template term empty.
        #expect(
            Self.run([rule], [Self.signals(.zero, doubles: 1)]).instances[0].annotations == [
                "trace_url": "https://tempo.example/trace/"
            ])
        // Other kinds never carry it.
        var spike = Self.signals(Self.spike)
        spike.latestDoubleExecution = signal.latestDoubleExecution
        #expect(Self.run([Self.rule()], [spike]).instances[0].annotations["trace_id"] == nil)
    }

    @Test func firingInstancesAreNotifiedAgainAfterTheRepeatInterval() {
        let fired = Self.run([Self.rule()], [Self.signals(Self.spike)], repeatMs: 60_000)
        let before = Self.run([Self.rule()], [Self.signals(Self.spike)], fired.instances, at: Self.t0 + 59_000, repeatMs: 60_000)
        #expect(before.transitions.isEmpty)
        let due = Self.run([Self.rule()], [Self.signals(Self.spike)], before.instances, at: Self.t0 + 60_000, repeatMs: 60_000)
        #expect(due.transitions.map(\.reason) == [.repeatDue])
        #expect(due.instances[0].lastNotifiedMs == Self.t0 + 60_000)
    }

    @Test func instancesOfOneAlertnameRepeatTogether() {
        let first = Self.run([Self.rule()], [Self.signals(Self.spike, series: Self.refund)], repeatMs: 60_000)
        let both = [Self.signals(Self.spike, series: Self.refund), Self.signals(Self.spike, series: Self.ticket)]
        let second = Self.run([Self.rule()], both, first.instances, at: Self.t0 + 30_000, repeatMs: 60_000)
        // The ticket instance's notification carried the refund instance too.
        #expect(second.instances.map(\.lastNotifiedMs) == [Self.t0 + 30_000, Self.t0 + 30_000])
        let quiet = Self.run([Self.rule()], both, second.instances, at: Self.t0 + 60_000, repeatMs: 60_000)
        #expect(quiet.transitions.isEmpty)
        let due = Self.run([Self.rule()], both, quiet.instances, at: Self.t0 + 90_000, repeatMs: 60_000)
        #expect(due.transitions.map(\.reason) == [.repeatDue, .repeatDue])
    }

    @Test func aVanishedSeriesOrRuleResolves() {
        let fired = Self.run([Self.rule()], [Self.signals(Self.spike)])
        #expect(Self.run([Self.rule()], [], fired.instances).transitions.map(\.reason) == [.resolved])
        #expect(Self.run([], [Self.signals(Self.spike)], fired.instances).transitions.map(\.reason) == [.resolved])
    }
}
