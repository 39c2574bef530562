import DedupVitalsCore
import DedupVitalsStorage
import DedupVitalsTestSupport
import Testing

@testable import DedupVitalsServer

/// The alert signals of the live state: each series gets its own latest traced double execution from key forensics
/// (read for the snapshot's series in its order), and series without one get none.
@Suite struct LiveSignalSourceTests {
    static let t0: Int64 = 1_800_000_000_000

    @Test func eachSeriesGetsItsOwnLatestTracedDoubleExecution() throws {
        let dir = try TemporaryDirectory()
        let store = try DedupStore(path: dir.file("db.sqlite"))
        let loaded = try store.load(
            bucketWidthMs: BucketClock.defaultWidthMs,
            forensics: .init(dedupWindowMs: 86_400_000, staleAfterMs: 300_000, maxKeys: 1_000), maxClientsPerSeries: 50)
        let state = LiveState(loaded, bucketHorizonMs: 3_600_000)
        let names = ["alpha", "beta", "gamma", "delta"].map { SeriesKey(service: "svc", operation: $0) }
        let traces = (1...4).map { TraceContext(traceHigh: UInt64($0), traceLow: 7, span: UInt64($0))! }
        var events: [Event] = []
        var forensic: [ForensicEvent] = []
        for (index, series) in names.enumerated() {
            events.append(Event(service: series.service, operation: series.operation, outcome: .miss, timeMs: Self.t0))
            guard index % 2 == 0 else { continue }  // beta and delta: no double execution
            let key = KeyHash(high: UInt64(index), low: 99)
            forensic.append(ForensicEvent(series: series, outcome: .miss, key: key, payload: nil, timeMs: Self.t0, ageMs: nil))
            forensic.append(
                ForensicEvent(
                    series: series, outcome: .miss, key: key, payload: nil, timeMs: Self.t0 + 5, ageMs: nil,
                    trace: traces[index]))
        }
        _ = state.runForensics(forensic)
        state.apply(BatchDelta(events: events, receivedAtMs: Self.t0, bucketWidthMs: BucketClock.defaultWidthMs))

        let signals = LiveSignalSource(state: state).signals(windows: [.minutes(5)], nowMs: Self.t0 + 10)
        let latest = Dictionary(uniqueKeysWithValues: signals.map { ($0.series, $0.latestDoubleExecution) })
        #expect(latest.count == 4)
        #expect(latest[names[0]] == TracedMoment(trace: traces[0], timeMs: Self.t0 + 5))
        #expect(latest[names[2]] == TracedMoment(trace: traces[2], timeMs: Self.t0 + 5))
        #expect(latest[names[1]] == .some(nil) && latest[names[3]] == .some(nil))
    }
}
