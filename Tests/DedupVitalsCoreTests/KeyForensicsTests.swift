import Testing

@testable import DedupVitalsCore

/// The key-forensics detectors, including their boundaries.
@Suite struct KeyForensicsTests {
    static let series = SeriesKey(service: "payments", operation: "refund")
    static let window: Int64 = 86_400_000
    static let settings = KeyForensics.Settings(
        dedupWindowMs: window, staleAfterMs: 300_000, maxKeys: 100, narrowKeySpanMs: 600_000, narrowKeyThreshold: 3)
    static let t0: Int64 = 1_800_000_000_000

    static func key(_ n: UInt64) -> KeyHash { KeyHash(high: n, low: n &* 31) }

    static func event(_ outcome: Outcome, key: UInt64?, at t: Int64, payload: UInt64? = nil, ageMs: Int64? = nil) -> ForensicEvent
    {
        ForensicEvent(
            series: series, outcome: outcome, key: key.map(Self.key), payload: payload.map(Self.key), timeMs: t, ageMs: ageMs)
    }

    static func detections(_ changes: KeyForensics.Changes) -> OutcomeCounts {
        changes.detections.values.reduce(.zero, +)
    }

    @Test func aSecondMissJustInsideTheWindowIsADoubleExecution() {
        var forensics = KeyForensics(settings: Self.settings)
        _ = forensics.process([Self.event(.miss, key: 1, at: Self.t0)], bucketWidthMs: 10_000)
        let inside = forensics.process([Self.event(.miss, key: 1, at: Self.t0 + Self.window)], bucketWidthMs: 10_000)
        #expect(Self.detections(inside).doubleExecutions == 1)
        #expect(Self.detections(inside).lateRetries == 0)
    }

    @Test func aSecondMissJustOutsideTheWindowIsALateRetry() {
        var forensics = KeyForensics(settings: Self.settings)
        _ = forensics.process(
            [Self.event(.miss, key: 1, at: Self.t0), Self.event(.completed, key: 1, at: Self.t0 + 5)], bucketWidthMs: 10_000)
        let outside = forensics.process([Self.event(.miss, key: 1, at: Self.t0 + Self.window + 1)], bucketWidthMs: 10_000)
        #expect(Self.detections(outside).doubleExecutions == 0)
        #expect(Self.detections(outside).lateRetries == 1)
        // The late retry starts a new life: a miss soon after it is a double execution again.
        let again = forensics.process([Self.event(.miss, key: 1, at: Self.t0 + Self.window + 1000)], bucketWidthMs: 10_000)
        #expect(Self.detections(again).doubleExecutions == 1)
    }

    static func traced(_ outcome: Outcome, key: UInt64, at t: Int64, trace n: UInt64? = nil, ageMs: Int64? = nil) -> ForensicEvent
    {
        var event = Self.event(outcome, key: key, at: t, ageMs: ageMs)
        event.trace = n.flatMap { TraceContext(traceHigh: $0, traceLow: $0, span: $0) }
        return event
    }

    @Test func theFirstMissAndTheRepeatThatWasADetectionKeepTheirTraces() throws {
        var forensics = KeyForensics(settings: Self.settings)
        _ = forensics.process([Self.traced(.miss, key: 1, at: Self.t0, trace: 1)], bucketWidthMs: 10_000)
        #expect(forensics.record(for: Self.key(1))?.traces?.firstMiss?.traceHigh == 1)
        #expect(forensics.doubleExecutionExemplars.isEmpty)
        // A hit is no miss: it leaves the traces alone, but its retry delay gets the bucket's exemplar.
        _ = forensics.process([Self.traced(.hit, key: 1, at: Self.t0 + 300, trace: 9)], bucketWidthMs: 10_000)
        #expect(forensics.record(for: Self.key(1))?.traces?.repeatMiss == nil)
        let delay = try #require(forensics.retryDelays[Self.series])
        #expect(delay.exemplars[2]?.moment.trace.traceHigh == 9 && delay.exemplars[2]?.value == 0.3, "0.3 s falls in le=0.5")
        #expect(delay.exemplars.compactMap { $0 }.count == 1)

        let double = forensics.process([Self.traced(.miss, key: 1, at: Self.t0 + 1000, trace: 2)], bucketWidthMs: 10_000)
        var traces = try #require(forensics.record(for: Self.key(1))?.traces)
        #expect(traces.firstMiss?.traceHigh == 1 && traces.repeatMiss?.traceHigh == 2)
        #expect(traces.repeatDetection == .doubleExecution && traces.lockHolder?.traceHigh == 2)
        #expect(
            forensics.doubleExecutionExemplars[Self.series] == TracedMoment(trace: traces.repeatMiss!, timeMs: Self.t0 + 1000))
        // A failed transaction takes the exemplar back with the record.
        forensics.rollback(double)
        #expect(forensics.doubleExecutionExemplars.isEmpty)
        #expect(forensics.record(for: Self.key(1))?.traces?.repeatMiss == nil)

        _ = forensics.process(
            [
                Self.traced(.completed, key: 1, at: Self.t0 + 5),
                Self.traced(.miss, key: 1, at: Self.t0 + Self.window + 1, trace: 3),
            ],
            bucketWidthMs: 10_000)
        traces = try #require(forensics.record(for: Self.key(1))?.traces)
        #expect(traces.firstMiss?.traceHigh == 1 && traces.repeatMiss?.traceHigh == 3 && traces.repeatDetection == .lateRetry)
        // A later repeat without a trace does not leave an older one standing for it.
        _ = forensics.process([Self.traced(.miss, key: 1, at: Self.t0 + Self.window + 2, trace: nil)], bucketWidthMs: 10_000)
        traces = try #require(forensics.record(for: Self.key(1))?.traces)
        #expect(traces.firstMiss?.traceHigh == 1 && traces.repeatMiss == nil)
        // Keys reported without trace context carry no traces at all.
        _ = forensics.process(
            [Self.traced(.miss, key: 2, at: Self.t0, trace: nil), Self.traced(.miss, key: 2, at: Self.t0 + 1, trace: nil)],
            bucketWidthMs: 10_000)
        #expect(forensics.record(for: Self.key(2))?.traces == nil)
    }

    @Test func hitsAndCompletionsAreNotDetections() {
        var forensics = KeyForensics(settings: Self.settings)
        let changes = forensics.process(
            [
                Self.event(.miss, key: 1, at: Self.t0), Self.event(.inFlight, key: 1, at: Self.t0 + 10),
                Self.event(.completed, key: 1, at: Self.t0 + 20), Self.event(.hit, key: 1, at: Self.t0 + 30),
            ], bucketWidthMs: 10_000)
        #expect(Self.detections(changes) == .zero)
        #expect(forensics.inFlightKeys.isEmpty)
    }

    @Test func staleInFlightBoundaryAndCompletionClearsIt() {
        var forensics = KeyForensics(settings: Self.settings)
        _ = forensics.process(
            [Self.event(.miss, key: 1, at: Self.t0), Self.event(.miss, key: 2, at: Self.t0)], bucketWidthMs: 10_000)
        #expect(forensics.inFlightKeys[Self.series] == 2)
        #expect(forensics.staleInFlightKeys(nowMs: Self.t0 + 300_000).isEmpty)  // exactly at the threshold: not yet
        #expect(forensics.staleInFlightKeys(nowMs: Self.t0 + 300_001)[Self.series] == 2)
        _ = forensics.process([Self.event(.completed, key: 1, at: Self.t0 + 400_000)], bucketWidthMs: 10_000)
        #expect(forensics.staleInFlightKeys(nowMs: Self.t0 + 400_001)[Self.series] == 1)
        #expect(forensics.inFlightKeys[Self.series] == 1)
    }

    @Test func retryDelayComesFromAgeOrFromTheFirstMiss() {
        var forensics = KeyForensics(settings: Self.settings)
        _ = forensics.process(
            [
                Self.event(.miss, key: 1, at: Self.t0),
                Self.event(.hit, key: 1, at: Self.t0 + 3_000),  // 3 s since the first miss
                Self.event(.inFlight, key: nil, at: Self.t0, ageMs: 200),  // no key, age given
                Self.event(.mismatch, key: 1, at: Self.t0 + 4_000),  // not a duplicate
            ], bucketWidthMs: 10_000)
        let histogram = forensics.retryDelays[Self.series]!
        #expect(histogram.count == 2)
        #expect(histogram.sum == 3.2)
        #expect(histogram.counts[1] == 1)  // 0.2 s in (0.1, 0.25]
        #expect(histogram.counts[5] == 1)  // 3 s in (2.5, 5]
    }

    @Test func onePayloadUnderSeveralKeysIsANarrowKeyOnce() {
        var forensics = KeyForensics(settings: Self.settings)
        let changes = forensics.process(
            [
                Self.event(.miss, key: 1, at: Self.t0, payload: 9), Self.event(.miss, key: 2, at: Self.t0 + 1000, payload: 9),
                Self.event(.miss, key: 3, at: Self.t0 + 2000, payload: 9),
                Self.event(.miss, key: 4, at: Self.t0 + 3000, payload: 9),
                Self.event(.miss, key: 5, at: Self.t0, payload: 8), Self.event(.miss, key: 6, at: Self.t0 + 700_000, payload: 8),
                Self.event(.miss, key: 7, at: Self.t0 + 700_001, payload: 8),
            ], bucketWidthMs: 10_000)
        // Payload 9: flagged once at the third key. Payload 8: its third key comes after the span, so not flagged.
        #expect(Self.detections(changes).narrowKeys == 1)
    }

    @Test func theKeyCapEvictsTheOldestFirst() {
        var forensics = KeyForensics(settings: .init(dedupWindowMs: Self.window, staleAfterMs: 1000, maxKeys: 3))
        let changes = forensics.process(
            (1...5).map { Self.event(.miss, key: UInt64($0), at: Self.t0 + Int64($0)) }, bucketWidthMs: 10_000)
        #expect(forensics.keyCount == 3)
        #expect(changes.evicted == 2)
        #expect(forensics.evictions == 2)
        #expect(forensics.record(for: Self.key(1)) == nil)
        #expect(forensics.record(for: Self.key(2)) == nil)
        #expect(forensics.record(for: Self.key(5)) != nil)
        #expect(forensics.inFlightKeys[Self.series] == 3)
        #expect(changes.current(of: Self.key(1)) == .some(nil))
    }

    /// A group's retry delays hold each series once, in the order first observed, with only that group's
    /// observations; a later group starts its own, rolling it back gives the cumulative histograms back, and merging
    /// groups sums each series' delays.
    @Test func eachGroupCarriesItsOwnDelaysPerSeries() {
        let other = SeriesKey(service: "payments", operation: "capture")
        func delayed(_ series: SeriesKey, ageMs: Int64) -> ForensicEvent {
            ForensicEvent(series: series, outcome: .hit, key: nil, payload: nil, timeMs: Self.t0, ageMs: ageMs)
        }
        var forensics = KeyForensics(settings: Self.settings)
        let first = forensics.process(
            [delayed(Self.series, ageMs: 250), delayed(other, ageMs: 3_000), delayed(Self.series, ageMs: 500)],
            bucketWidthMs: 10_000)
        #expect(first.delays.map(\.series) == [Self.series, other])
        #expect(first.delays.map(\.histogram.count) == [2, 1])
        #expect(first.delays[0].histogram.sum == 0.75)
        let afterFirst = forensics.retryDelays
        let second = forensics.process(
            [delayed(other, ageMs: 125), delayed(other, ageMs: 125), delayed(Self.series, ageMs: 50)], bucketWidthMs: 10_000)
        #expect(second.delays.map(\.series) == [other, Self.series])
        #expect(second.delays.map(\.histogram.count) == [2, 1])
        #expect(forensics.retryDelays[other]?.count == 3)
        let merged = KeyForensics.Changes.mergedDelays([first, second])
        #expect(merged.map(\.series) == [Self.series, other])
        #expect(merged.map(\.histogram.count) == [3, 3])
        #expect(merged[1].histogram.sum == 3.25)
        #expect(merged[0].histogram.counts == forensics.retryDelays[Self.series]?.counts)
        forensics.rollback(second)
        #expect(forensics.retryDelays == afterFirst)
        forensics.rollback(first)
        #expect(forensics.retryDelays.isEmpty)
    }

    /// Series that expire give their indexes to later series: the arrays kept per series index grow with the most
    /// series tracked at once, not with every series ever seen, and a new series starts with nothing of the old.
    @Test func removedSeriesGiveTheirIndexesToNewSeries() {
        var forensics = KeyForensics(settings: Self.settings)
        let old = (0..<50).map { SeriesKey(service: "payments", operation: "old-\($0)") }
        let new = (0..<50).map { SeriesKey(service: "payments", operation: "new-\($0)") }
        func events(_ series: [SeriesKey], keyBase: UInt64) -> [ForensicEvent] {
            series.enumerated().flatMap { n, series in
                [
                    ForensicEvent(
                        series: series, outcome: .miss, key: Self.key(keyBase + UInt64(n)), payload: nil, timeMs: Self.t0,
                        ageMs: nil),
                    ForensicEvent(series: series, outcome: .hit, key: nil, payload: nil, timeMs: Self.t0 + 5, ageMs: 100),
                ]
            }
        }
        let first = forensics.process(events(old, keyBase: 1), bucketWidthMs: 10_000)
        #expect(forensics.seriesCapacity == 50)
        forensics.removeSeries(Set(old), settledThrough: first.call)
        #expect(forensics.keyCount == 0)
        #expect(forensics.inFlightKeys.isEmpty && forensics.retryDelays.isEmpty)
        _ = forensics.process(events(new, keyBase: 1_000), bucketWidthMs: 10_000)
        #expect(forensics.seriesCapacity == 50)
        #expect(forensics.inFlightKeys == Dictionary(uniqueKeysWithValues: new.map { ($0, 1) }))
        #expect(Set(forensics.retryDelays.keys) == Set(new))
        #expect(forensics.retryDelays.values.allSatisfy { $0.count == 1 })
        #expect(Set(forensics.staleInFlightKeys(nowMs: Self.t0 + 3_600_000).keys) == Set(new))
        let figures = forensics.figures(of: old + new)
        #expect(figures.inFlightKeys == Array(repeating: 0, count: 50) + Array(repeating: 1, count: 50))
        #expect(figures.retryDelays.map { $0 != nil } == Array(repeating: false, count: 50) + Array(repeating: true, count: 50))
    }

    /// A group prepared before its series was removed still names the series' index: the index waits until that
    /// group is settled, and rolling the group back puts nothing back in the removed series (which a new series
    /// would then have inherited).
    @Test func anIndexWaitsForTheGroupsPreparedBeforeItsSeriesWasRemoved() {
        var forensics = KeyForensics(settings: Self.settings)
        let old = SeriesKey(service: "payments", operation: "old")
        let fresh = SeriesKey(service: "payments", operation: "fresh")
        let later = SeriesKey(service: "payments", operation: "later")
        func event(_ series: SeriesKey, _ outcome: Outcome, key: UInt64?, ageMs: Int64? = nil) -> ForensicEvent {
            ForensicEvent(series: series, outcome: outcome, key: key.map(Self.key), payload: nil, timeMs: Self.t0, ageMs: ageMs)
        }
        let settled = forensics.process(
            [event(old, .miss, key: 1), event(old, .hit, key: nil, ageMs: 100)], bucketWidthMs: 10_000)
        // Prepared, not yet settled: it touches key 1 (tracked before it) and observes a delay in the old series.
        let pending = forensics.process([event(old, .hit, key: 1, ageMs: 200)], bucketWidthMs: 10_000)
        forensics.removeSeries([old], settledThrough: settled.call)
        #expect(forensics.keyCount == 0)
        // A new series does not get the old one's index while `pending` may still be rolled back.
        let onTop = forensics.process([event(fresh, .miss, key: 2)], bucketWidthMs: 10_000)
        #expect(forensics.seriesCapacity == 2)
        // Their group fails: rolled back newest first.
        forensics.rollback(onTop)
        forensics.rollback(pending)
        #expect(forensics.record(for: Self.key(1)) == nil)
        #expect(forensics.inFlightKeys.isEmpty && forensics.retryDelays.isEmpty)
        // Now settled: a later removal frees the index, and the next new series takes it with nothing of the old one.
        forensics.removeSeries([], settledThrough: pending.call)
        _ = forensics.process([event(later, .miss, key: 3)], bucketWidthMs: 10_000)
        #expect(forensics.seriesCapacity == 2)
        #expect(forensics.inFlightKeys == [later: 1])
        #expect(forensics.retryDelays.isEmpty)
        #expect(forensics.staleInFlightKeys(nowMs: Self.t0 + 3_600_000) == [later: 1])
    }

    /// Key forensics with a cap of two keys, holding keys 1 and 2 (open misses, key 1 the oldest).
    static func keysOneAndTwoAtACapOfTwo() -> KeyForensics {
        var forensics = KeyForensics(settings: .init(dedupWindowMs: window, staleAfterMs: 1000, maxKeys: 2))
        _ = forensics.process([event(.miss, key: 1, at: t0), event(.miss, key: 2, at: t0)], bucketWidthMs: 10_000)
        return forensics
    }

    @Test func rollbackRestoresTheStateBeforeTheGroup() {
        var forensics = Self.keysOneAndTwoAtACapOfTwo()
        let before = forensics.records
        let changes = forensics.process(
            [
                Self.event(.completed, key: 1, at: Self.t0 + 1), Self.event(.miss, key: 3, at: Self.t0 + 2),
                Self.event(.hit, key: 2, at: Self.t0 + 3, ageMs: 5),
            ], bucketWidthMs: 10_000)
        #expect(forensics.records != before)
        forensics.rollback(changes)
        #expect(forensics.records == before)
        #expect(forensics.inFlightKeys[Self.series] == 2)
        #expect(forensics.evictions == 0)
        #expect(forensics.retryDelays[Self.series]?.count ?? 0 == 0)
    }

    /// A key the group evicts without touching it, and one it evicts and then creates again: the changes say both
    /// are gone or new, and a rollback gives both their records back, in their old order.
    @Test func rollbackPutsBackTheKeysTheGroupEvictedAndCreatedAgain() {
        var forensics = Self.keysOneAndTwoAtACapOfTwo()
        let before = forensics.records
        // Key 3 evicts key 1; key 1, new again, evicts key 2.
        let changes = forensics.process(
            [Self.event(.miss, key: 3, at: Self.t0 + 1), Self.event(.completed, key: 1, at: Self.t0 + 2)], bucketWidthMs: 10_000)
        #expect(changes.evicted == 2)
        #expect(changes.current(of: Self.key(2)) == .some(nil))
        #expect(changes.current(of: Self.key(1))??.createdMs == Self.t0 + 2)
        #expect(forensics.record(for: Self.key(1))?.createdMs == Self.t0 + 2)
        #expect(forensics.inFlightKeys[Self.series] == 1)
        forensics.rollback(changes)
        #expect(forensics.records == before)
        #expect(forensics.inFlightKeys[Self.series] == 2)
        #expect(forensics.evictions == 0)
        // Key 1 is the oldest again: the next new key evicts it.
        _ = forensics.process([Self.event(.miss, key: 4, at: Self.t0 + 3)], bucketWidthMs: 10_000)
        #expect(forensics.record(for: Self.key(1)) == nil)
        #expect(forensics.record(for: Self.key(2)) != nil)
    }

    /// A group that creates more keys than the cap evicts keys it created itself: their changes end removed (the
    /// eviction finds them among the group's keys, not only among keys tracked before), and a rollback leaves none.
    @Test func aGroupThatCreatesMoreKeysThanTheCapEvictsItsOwn() {
        var forensics = KeyForensics(settings: .init(dedupWindowMs: Self.window, staleAfterMs: 1000, maxKeys: 2))
        let changes = forensics.process(
            (1...4).map { Self.event(.miss, key: UInt64($0), at: Self.t0 + Int64($0)) }, bucketWidthMs: 10_000)
        #expect(changes.evicted == 2)
        #expect(changes.evictedKeys.isEmpty)
        #expect(changes.current(of: Self.key(1)) == .some(nil))
        #expect(changes.current(of: Self.key(2)) == .some(nil))
        #expect(changes.current(of: Self.key(4))??.createdMs == Self.t0 + 4)
        #expect(forensics.inFlightKeys[Self.series] == 2)
        forensics.rollback(changes)
        #expect(forensics.keyCount == 0)
        #expect(forensics.inFlightKeys[Self.series] ?? 0 == 0)
    }

    /// A key the group creates and then touches again is one change, new before the group, with its last record;
    /// so is a key tracked before the group that it touches twice (whichever comes first in the group).
    @Test func aKeyTouchedTwiceInItsGroupIsOneChange() {
        for trackedFirst in [false, true] {
            var forensics = KeyForensics(settings: Self.settings)
            _ = forensics.process([Self.event(.miss, key: 9, at: Self.t0)], bucketWidthMs: 10_000)
            let fresh = [Self.event(.miss, key: 1, at: Self.t0 + 1), Self.event(.completed, key: 1, at: Self.t0 + 2)]
            let tracked = [Self.event(.hit, key: 9, at: Self.t0 + 3), Self.event(.completed, key: 9, at: Self.t0 + 4)]
            let changes = forensics.process(trackedFirst ? tracked + fresh : fresh + tracked, bucketWidthMs: 10_000)
            #expect(changes.keys.map(\.key) == (trackedFirst ? [Self.key(9), Self.key(1)] : [Self.key(1), Self.key(9)]))
            let new = changes.keys.first { $0.key == Self.key(1) }
            #expect(new.map(changes.previous(of:)) == .some(nil))
            #expect(new?.current?.completedMs == Self.t0 + 2 && new?.current?.open == false)
            let old = changes.keys.first { $0.key == Self.key(9) }
            #expect(old.flatMap(changes.previous(of:))?.open == true)
            #expect(old?.current?.completedMs == Self.t0 + 4 && old?.current?.hit == 1)
            #expect(changes.current(of: Self.key(1))??.open == false)
        }
    }

    /// Keys evicted untouched keep their records as the table held them (traces, and a record too wide to pack), and
    /// a rollback gives them back exactly.
    @Test func evictedKeysComeBackExactlyOnRollback() {
        var forensics = KeyForensics(settings: .init(dedupWindowMs: Self.window, staleAfterMs: 1000, maxKeys: 2))
        var traced = Self.event(.miss, key: 1, at: Self.t0)
        traced.trace = TraceContext(traceHigh: 7, traceLow: 8, span: 9)
        // Key 2 is seen over 60 days: its record does not fit a packed one.
        _ = forensics.process(
            [traced, Self.event(.miss, key: 2, at: Self.t0), Self.event(.completed, key: 2, at: Self.t0 + 60 * 86_400_000)],
            bucketWidthMs: 10_000)
        #expect(forensics.table.unpackedCount == 1)
        let before = forensics.records
        #expect(before[Self.key(1)]?.traces?.firstMiss?.span == 9)
        let changes = forensics.process(
            [Self.event(.miss, key: 3, at: Self.t0 + 1), Self.event(.miss, key: 4, at: Self.t0 + 2)], bucketWidthMs: 10_000)
        #expect(changes.evictedKeys.map(\.key) == [Self.key(1), Self.key(2)])
        #expect(changes.evictedKeys.map(\.previous) == [before[Self.key(1)]!, before[Self.key(2)]!])
        #expect(forensics.table.unpackedCount == 0)
        #expect(forensics.inFlightKeys[Self.series] == 2)
        forensics.rollback(changes)
        #expect(forensics.records == before)
        #expect(forensics.table.unpackedCount == 1)
        #expect(forensics.inFlightKeys[Self.series] == 1)
    }

    @Test func expiryForgetsKeysAfterTwiceTheWindow() {
        var forensics = KeyForensics(settings: Self.settings)
        _ = forensics.process(
            [Self.event(.miss, key: 1, at: Self.t0), Self.event(.miss, key: 2, at: Self.t0 + Self.window)], bucketWidthMs: 10_000)
        let expired = forensics.expire(nowMs: Self.t0 + 2 * Self.window + 1)
        #expect(expired == [Self.key(1)])
        #expect(forensics.keyCount == 1)
        #expect(forensics.inFlightKeys[Self.series] == 1)
    }

    /// The tracked keys keep their records packed (times within 49.7 days, counts up to 65,535); a key beyond that is
    /// still counted and timed exactly, and a rollback puts it back as it was.
    @Test func aKeyOverMonthsAndPast65535EventsIsStillExact() {
        var forensics = KeyForensics(settings: Self.settings)
        _ = forensics.process([Self.event(.miss, key: 1, at: Self.t0)], bucketWidthMs: 10_000)
        _ = forensics.process(
            (1...65_535).map { Self.event(.inFlight, key: 1, at: Self.t0 + Int64($0)) }, bucketWidthMs: 10_000)
        #expect(forensics.table.unpackedCount == 0)
        let before = forensics.records
        let changes = forensics.process([Self.event(.inFlight, key: 1, at: Self.t0 + 65_536)], bucketWidthMs: 10_000)
        #expect(forensics.table.unpackedCount == 1)
        #expect(forensics.record(for: Self.key(1))?.inFlight == 65_536)
        forensics.rollback(changes)
        #expect(forensics.records == before)
        #expect(forensics.table.unpackedCount == 0)

        let days: Int64 = 60
        let late = Self.t0 + days * Self.window
        _ = forensics.process(
            [Self.event(.completed, key: 1, at: Self.t0 + 70_000), Self.event(.miss, key: 1, at: late)], bucketWidthMs: 10_000)
        let record = forensics.record(for: Self.key(1))
        #expect(forensics.table.unpackedCount == 1)
        #expect(record?.createdMs == Self.t0)
        #expect(record?.firstMissMs == late)
        #expect(record?.lastMissMs == late)
        #expect(record?.completedMs == Self.t0 + 70_000)
        #expect(record?.lastSeenMs == late)
        #expect(record?.miss == 2 && record?.inFlight == 65_535 && record?.completed == 1)
        #expect(forensics.inFlightKeys[Self.series] == 1)
        #expect(forensics.staleInFlightKeys(nowMs: late + 300_001)[Self.series] == 1)
    }

    @Test func keyHashesDependOnSeriesAndSecret() {
        let a = KeyHasher(secret: Array(repeating: 1, count: 32))
        let b = KeyHasher(secret: Array(repeating: 2, count: 32))
        let other = SeriesKey(service: "payments", operation: "capture")
        #expect(a.hashKey("k", series: Self.series) == a.hashKey("k", series: Self.series))
        #expect(a.hashKey("k", series: Self.series) != a.hashKey("k", series: other))
        #expect(a.hashKey("k", series: Self.series) != b.hashKey("k", series: Self.series))
        #expect(a.hashKey("k", series: Self.series) != a.hashPayload("k", series: Self.series))
    }
}
