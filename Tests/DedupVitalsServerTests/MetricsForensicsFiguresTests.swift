import DedupVitalsCore
import NIOCore
import Testing

@testable import DedupVitalsServer

/// The read path hands `/metrics` key forensics' figures per series in the snapshot's order
/// (``KeyForensics/figures(of:)``, one lookup per series) instead of dictionaries by series: they must say what the
/// dictionaries say, and render the same exposition as figures read from the dictionaries.
@Suite struct MetricsForensicsFiguresTests {
    static let t0: Int64 = 1_800_000_000_000
    static let trace = TraceContext(
        traceHigh: 0x4bf9_2f35_77b3_4da6, traceLow: 0xa3ce_929d_0e0e_4736, span: 0x00f0_67aa_0ba9_02b7)!

    /// 30 series; keys opened in some, retries with `age_ms` in others, a traced double execution in one, and series
    /// the windows know that key forensics never saw.
    static func state() -> (series: [RollingWindows.SeriesWindows], forensics: KeyForensics) {
        var forensics = KeyForensics(settings: .init(dedupWindowMs: 86_400_000, staleAfterMs: 300_000, maxKeys: 1_000))
        var events: [Event] = []
        var forensicEvents: [ForensicEvent] = []
        for n in 0..<30 {
            let series = SeriesKey(service: "svc", operation: "op\(n)")
            events.append(Event(service: series.service, operation: series.operation, outcome: .miss, timeMs: t0))
            guard n % 5 != 4 else { continue }  // a series key forensics has not seen
            let key = KeyHash(high: UInt64(n), low: UInt64(n) &* 31)
            forensicEvents.append(ForensicEvent(series: series, outcome: .miss, key: key, payload: nil, timeMs: t0, ageMs: nil))
            if n % 3 == 0 {
                forensicEvents.append(
                    ForensicEvent(series: series, outcome: .completed, key: key, payload: nil, timeMs: t0 + 1, ageMs: nil))
            }
            if n % 2 == 0 {
                forensicEvents.append(
                    ForensicEvent(series: series, outcome: .hit, key: key, payload: nil, timeMs: t0 + 2, ageMs: Int64(n) * 700))
            }
            if n == 7 {
                forensicEvents.append(
                    ForensicEvent(
                        series: series, outcome: .miss, key: key, payload: nil, timeMs: t0 + 3, ageMs: nil, trace: trace))
            }
        }
        _ = forensics.process(forensicEvents, bucketWidthMs: BucketClock.defaultWidthMs)
        var windows = RollingWindows()
        windows.apply(BatchDelta(events: events, receivedAtMs: t0, bucketWidthMs: BucketClock.defaultWidthMs))
        return (windows.snapshot(windows: [.minutes(5)], nowMs: t0 + 10), forensics)
    }

    @Test func figuresFollowTheSeriesAskedFor() throws {
        let (series, forensics) = Self.state()
        let keys = series.map(\.series).reversed() + [SeriesKey(service: "svc", operation: "never")]
        let figures = forensics.figures(of: keys)
        let inFlight = forensics.inFlightKeys
        let delays = forensics.retryDelays
        let exemplars = forensics.doubleExecutionExemplars
        #expect(!inFlight.isEmpty && !delays.isEmpty && exemplars.count == 1)
        for (position, key) in keys.enumerated() {
            #expect(figures.inFlightKeys[position] == inFlight[key] ?? 0)
            #expect(figures.retryDelays[position]?.count == delays[key]?.count)
            #expect(figures.retryDelays[position]?.sum == delays[key]?.sum)
            #expect(figures.doubleExecutionExemplars[position] == exemplars[key])
        }
        let none = KeyForensics(settings: .init(dedupWindowMs: 1, staleAfterMs: 1, maxKeys: 1)).figures(of: keys)
        #expect(none.inFlightKeys == Array(repeating: 0, count: keys.count))
        #expect(none.retryDelays.allSatisfy { $0 == nil } && none.doubleExecutionExemplars.allSatisfy { $0 == nil })
    }

    @Test(arguments: [ExpositionFormat.text, .openMetrics])
    func theExpositionIsTheSameFromFigures(format: ExpositionFormat) {
        let (series, forensics) = Self.state()
        let (fromDictionaries, fromFigures) = Self.both(series, forensics)
        let renderer = MetricsRenderer(windows: [.minutes(5)], version: "1")
        let counters = IngestCounters()
        let a = renderer.render(series: series, forensics: fromDictionaries, counters: counters, format: format)
        let b = renderer.render(series: series, forensics: fromFigures, counters: counters, format: format)
        #expect(a.readableBytes > 0 && a == b)
    }

    @Test func theProtobufExpositionIsTheSameFromFigures() {
        let (series, forensics) = Self.state()
        let (fromDictionaries, fromFigures) = Self.both(series, forensics)
        let renderer = MetricsRenderer(windows: [.minutes(5)], version: "1")
        let counters = IngestCounters()
        let a = renderer.renderProtobuf(series: series, forensics: fromDictionaries, counters: counters)
        let b = renderer.renderProtobuf(series: series, forensics: fromFigures, counters: counters)
        #expect(a.readableBytes > 0 && a == b)
    }

    static func both(
        _ series: [RollingWindows.SeriesWindows], _ forensics: KeyForensics
    ) -> (MetricsRenderer.Forensics, MetricsRenderer.Forensics) {
        (
            MetricsRenderer.Forensics(
                trackedKeys: forensics.keyCount, evictions: forensics.evictions,
                figures: KeyForensics.SeriesFigures(
                    series: series.map(\.series), inFlightKeys: forensics.inFlightKeys, retryDelays: forensics.retryDelays,
                    doubleExecutionExemplars: forensics.doubleExecutionExemplars)),
            MetricsRenderer.Forensics(
                trackedKeys: forensics.keyCount, evictions: forensics.evictions, figures: forensics.figures(of: series))
        )
    }
}
