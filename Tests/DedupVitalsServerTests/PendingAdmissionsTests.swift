import DedupVitalsCore
import DedupVitalsStorage
import DedupVitalsTestSupport
import Testing

@testable import DedupVitalsServer

/// The client cap and the series limit at admission (PendingAdmissions.swift). Batches pass the cap unchecked while
/// every caller seen since start fits under it, and the limit while every cell could be a new series; both still hold,
/// counting the batches admitted unchecked, once a batch brings more.
@Suite struct PendingAdmissionsTests {
    static let t0: Int64 = 1_800_000_000_000
    static let series = SeriesKey(service: "payments", operation: "refund")
    static let other = SeriesKey(service: "payments", operation: "capture")

    /// A live state loaded from a new database, with a cap of 3 clients per series, then tracking `callers`; and the
    /// pending admissions the pipeline makes for it at start.
    static func start(
        in dir: TemporaryDirectory, tracking callers: [(SeriesKey, String)]
    ) throws -> (DedupStore, LiveState, PendingAdmissions) {
        let store = try DedupStore(path: dir.file("db.sqlite"))
        let loaded = try store.load(
            bucketWidthMs: BucketClock.defaultWidthMs,
            forensics: .init(dedupWindowMs: 86_400_000, staleAfterMs: 300_000, maxKeys: 1_000),
            maxClientsPerSeries: 3)
        let state = LiveState(loaded, bucketHorizonMs: 3_600_000)
        state.apply(batch(callers))
        let pending = state.withClients {
            PendingAdmissions(callers: $0.callerNames, maxClientsPerSeries: $0.maxClientsPerSeries)
        }
        return (store, state, pending)
    }

    /// One event per (series, client).
    static func batch(_ callers: [(SeriesKey, String)]) -> BatchDelta {
        let events = callers.map { series, client in
            Event(service: series.service, operation: series.operation, outcome: .miss, client: client, timeMs: t0)
        }
        return BatchDelta(events: events, receivedAtMs: t0, bucketWidthMs: BucketClock.defaultWidthMs)
    }

    /// The clients `admitClients` lets through for `delta` (the cap's `_other` included).
    static func admit(_ delta: BatchDelta, _ pending: PendingAdmissions, _ state: LiveState) -> Set<String> {
        var delta = delta
        pending.admitClients(of: &delta, in: state)
        return Set(delta.clientCells.keys.map(\.client))
    }

    @Test func aCallerBeyondTheCapCountsTheBatchesAdmittedUncheckedAndNotYetApplied() throws {
        let dir = try TemporaryDirectory()
        let (store, state, pending) = try Self.start(in: dir, tracking: [(Self.series, "a"), (Self.series, "b")])
        defer { try? store.close() }
        // Three callers in all: no series can reach the cap of 3, so "c" passes unchecked.
        let first = Self.batch([(Self.series, "c"), (Self.other, "a")])
        #expect(Self.admit(first, pending, state) == ["c", "a"])
        // "d" makes four callers: the checks resume, and "c", admitted but not applied, holds the last place.
        let second = Self.batch([(Self.series, "d"), (Self.other, "d")])
        #expect(Self.admit(second, pending, state) == [ClientAttribution.otherClient, "d"])
        state.apply(first)
        pending.settle(first)
        #expect(Self.admit(Self.batch([(Self.series, "c")]), pending, state) == ["c"])
    }

    @Test func aBatchAdmittedUncheckedWhoseGroupFailedHoldsNoPlace() throws {
        let dir = try TemporaryDirectory()
        let (store, state, pending) = try Self.start(in: dir, tracking: [(Self.series, "a"), (Self.series, "b")])
        defer { try? store.close() }
        let failed = Self.batch([(Self.series, "c")])
        #expect(Self.admit(failed, pending, state) == ["c"])
        // Its group failed: settled without being applied.
        pending.settle(failed)
        // "d" ends the unchecked admissions; the failed batch's "c" must not count against the cap.
        #expect(Self.admit(Self.batch([(Self.series, "d")]), pending, state) == ["d"])
        #expect(Self.admit(Self.batch([(Self.series, "e")]), pending, state) == [ClientAttribution.otherClient])
    }

    @Test func callersTrackedAtStartCountFromTheFirstBatch() throws {
        let dir = try TemporaryDirectory()
        let (store, state, pending) = try Self.start(
            in: dir, tracking: [(Self.series, "a"), (Self.series, "b"), (Self.other, "c"), (Self.other, "d")])
        defer { try? store.close() }
        // Four callers tracked: the checks run from the first batch. "e" takes the series' last place, "f" is
        // counted as `_other`.
        #expect(
            Self.admit(Self.batch([(Self.series, "e"), (Self.series, "f")]), pending, state) == [
                "e", ClientAttribution.otherClient,
            ])
    }

    /// A batch of one event in each of `names` (operations of the service "payments").
    static func seriesBatch(_ names: [String]) -> BatchDelta {
        batch(names.map { (SeriesKey(service: "payments", operation: $0), "a") })
    }

    /// Whether `admitSeries` admits `delta` under a limit of `maxSeries`.
    static func admits(_ delta: BatchDelta, _ pending: PendingAdmissions, _ state: LiveState, maxSeries: Int) -> Bool {
        do {
            try pending.admitSeries(of: delta, in: state, maxSeries: maxSeries)
            return true
        } catch {
            return false
        }
    }

    @Test func theSeriesLimitCountsTheBatchesAdmittedUncheckedOnceItChecks() throws {
        let dir = try TemporaryDirectory()
        let (store, state, pending) = try Self.start(in: dir, tracking: [(Self.series, "a")])
        defer { try? store.close() }
        // One series tracked, a limit of 3: "x" and "y" leave room for every cell, so they pass unchecked.
        let first = Self.seriesBatch(["x"])
        #expect(Self.admits(first, pending, state, maxSeries: 3))
        #expect(Self.admits(Self.seriesBatch(["y"]), pending, state, maxSeries: 3))
        // "z" would be the fourth: the check runs, counting "x" and "y" as pending.
        #expect(!Self.admits(Self.seriesBatch(["z"]), pending, state, maxSeries: 3))
        // A batch of the tracked series and "x" creates nothing.
        #expect(Self.admits(Self.seriesBatch(["refund", "x"]), pending, state, maxSeries: 3))
        // "x" is applied: "y" is still pending and holds the last place.
        state.apply(first)
        pending.settle(first)
        #expect(!Self.admits(Self.seriesBatch(["z"]), pending, state, maxSeries: 3))
    }

    @Test func aBatchTheSeriesLimitAdmittedUncheckedWhoseGroupFailedHoldsNoPlace() throws {
        let dir = try TemporaryDirectory()
        let (store, state, pending) = try Self.start(in: dir, tracking: [])
        defer { try? store.close() }
        let failed = Self.seriesBatch(["x"])
        #expect(Self.admits(failed, pending, state, maxSeries: 2))
        // Its group failed: settled without being applied, so "y" and "z" take the two places.
        pending.settle(failed)
        #expect(Self.admits(Self.seriesBatch(["y"]), pending, state, maxSeries: 2))
        #expect(Self.admits(Self.seriesBatch(["z"]), pending, state, maxSeries: 2))
        #expect(!Self.admits(Self.seriesBatch(["w"]), pending, state, maxSeries: 2))
    }
}
