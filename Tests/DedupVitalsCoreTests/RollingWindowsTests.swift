import DedupVitalsCore
import Testing

/// `RollingWindows` (states in arrays, found through a dictionary of positions, listed in key order) against a
/// dictionary of series, under random applies, restores and prunes.
@Suite struct RollingWindowsTests {
    struct Expected: Equatable {
        var totals: OutcomeCounts
        var lastSeenMs: Int64
    }

    @Test func keepsEverySeriesStateAndListsThemInKeyOrder() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<40 {
            var windows = RollingWindows()
            var model: [SeriesKey: Expected] = [:]
            var now: Int64 = 1_800_000_000_000
            for _ in 0..<Int.random(in: 1..<40, using: &generator) {
                now += Int64.random(in: 0...30_000, using: &generator)
                switch Int.random(in: 0..<10, using: &generator) {
                case 0..<6:
                    let events = (0..<Int.random(in: 1..<30, using: &generator)).map { _ in
                        Event(
                            service: "s\(Int.random(in: 0..<3, using: &generator))",
                            operation: "op\(Int.random(in: 0..<40, using: &generator))",
                            outcome: Outcome.allCases.randomElement(using: &generator)!,
                            // Up to two buckets back: a series new to the delta can have cells in several buckets.
                            timeMs: now - Int64.random(in: 0...20_000, using: &generator))
                    }
                    windows.apply(BatchDelta(events: events, receivedAtMs: now, bucketWidthMs: BucketClock.defaultWidthMs))
                    for event in events {
                        let key = SeriesKey(service: event.service, operation: event.operation)
                        var expected = model[key] ?? Expected(totals: .zero, lastSeenMs: 0)
                        expected.totals[event.outcome] += 1
                        expected.lastSeenMs = max(expected.lastSeenMs, now)
                        model[key] = expected
                    }
                case 6..<8:
                    // As at start: series restored in any order, some known already.
                    let key = SeriesKey(service: "r", operation: "op\(Int.random(in: 0..<20, using: &generator))")
                    let totals = OutcomeCounts(miss: Int64.random(in: 0...9, using: &generator), hit: 2)
                    windows.restore(key, totals: totals, lastSeenMs: now, buckets: [])
                    model[key] = Expected(totals: totals, lastSeenMs: now)
                default:
                    let retentionMs = Int64.random(in: 0...120_000, using: &generator)
                    let dropped = windows.prune(nowMs: now, retentionMs: retentionMs)
                    let gone = model.filter { $0.value.lastSeenMs < now - retentionMs }.map(\.key)
                    #expect(Set(dropped) == Set(gone))
                    for key in gone { model[key] = nil }
                }
                #expect(windows.seriesCount == model.count)
                let snapshot = windows.snapshot(windows: [.minutes(5)], nowMs: now)
                #expect(snapshot.map(\.series) == model.keys.sorted())
                for item in snapshot {
                    #expect(Expected(totals: item.totals, lastSeenMs: item.lastSeenMs) == model[item.series])
                    #expect(windows.contains(item.series))
                    #expect(windows.state(of: item.series)?.totals == item.totals)
                }
                #expect(windows.allStates.count == model.count)
                #expect(!windows.contains(SeriesKey(service: "never", operation: "seen")))
            }
        }
    }
}
