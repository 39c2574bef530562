import DedupVitalsCore
import Testing

/// Caller attribution: the per-series client cap (counting pending admissions), the ranking against a model, and
/// pruning that frees a place under the cap.
@Suite struct ClientAttributionTests {
    typealias Cell = BatchDelta.ClientCell
    let series = SeriesKey(service: "payments", operation: "refund")
    let other = SeriesKey(service: "payments", operation: "charge")

    func cells(_ entries: [(SeriesKey, String, Int64, OutcomeCounts)]) -> BatchDelta.ClientCells {
        var cells: BatchDelta.ClientCells = [:]
        for (series, client, bucket, counts) in entries {
            cells[Cell(series: series, client: client, bucketStartMs: bucket), default: .zero] += counts
        }
        return cells
    }

    /// A committed group holding the same client cells: each count one event (of the bucket's time, in 10 ms
    /// buckets), received at `receivedAtMs`.
    func group(_ entries: [(SeriesKey, String, Int64, OutcomeCounts)], receivedAtMs: Int64) -> BatchDelta {
        var events: [Event] = []
        for (series, client, bucket, counts) in entries {
            for outcome in Outcome.allCases {
                for _ in 0..<counts[outcome] {
                    events.append(
                        Event(
                            service: series.service, operation: series.operation, outcome: outcome, client: client,
                            timeMs: bucket))
                }
            }
        }
        return BatchDelta(events: events, receivedAtMs: receivedAtMs, bucketWidthMs: 10)
    }

    @Test func clientsBeyondTheCapCountAsOtherIncludingPendingOnes() {
        var clients = ClientAttribution(maxClientsPerSeries: 3)
        let once = OutcomeCounts(miss: 1)
        clients.apply(group([(series, "a", 0, once), (series, "b", 0, once), (other, "z", 0, once)], receivedAtMs: 0))
        // "c" takes the last place while pending; "d" (and "e") must become "_other"; another series is not affected.
        let (resolved, admitted) = clients.resolveCells(
            cells([(series, "d", 0, once), (series, "e", 0, once), (series, "a", 0, once), (other, "y", 0, once)]),
            pending: [series: ["c"]])
        #expect(admitted == [other: ["y"]])
        #expect(resolved[Cell(series: series, client: ClientAttribution.otherClient, bucketStartMs: 0)] == OutcomeCounts(miss: 2))
        #expect(resolved[Cell(series: series, client: "a", bucketStartMs: 0)] == once)
        #expect(resolved[Cell(series: other, client: "y", bucketStartMs: 0)] == once)
        #expect(resolved.count == 3)
        // Without the pending one, the first new client in name order gets the place.
        let (alone, admittedAlone) = clients.resolveCells(cells([(series, "e", 0, once), (series, "d", 0, once)]))
        #expect(admittedAlone == [series: ["d"]])
        #expect(alone[Cell(series: series, client: "d", bucketStartMs: 0)] == once)
        #expect(alone[Cell(series: series, client: ClientAttribution.otherClient, bucketStartMs: 0)] == once)
    }

    /// A few callers per series, and many.
    @Test(arguments: [9, 40]) func ranksLikeAModelOfItsBuckets(callers: Int) {
        var generator = SystemRandomNumberGenerator()
        var clients = ClientAttribution(maxClientsPerSeries: 100)
        var model: [SeriesKey: [String: [Int64: OutcomeCounts]]] = [:]
        for step in 0..<300 {
            var entries: [(SeriesKey, String, Int64, OutcomeCounts)] = []
            for _ in 0..<Int.random(in: 1...20, using: &generator) {
                let key = Bool.random(using: &generator) ? series : other
                let client = "client-\(Int.random(in: 0..<callers, using: &generator))"
                let bucket = Int64(step / 30 - Int.random(in: 0...1, using: &generator)) * 10
                let counts = OutcomeCounts(
                    miss: Int64.random(in: 0...3, using: &generator), hit: Int64.random(in: 0...3, using: &generator))
                entries.append((key, client, bucket, counts))
                model[key, default: [:]][client, default: [:]][bucket, default: .zero] += counts
            }
            clients.apply(group(entries, receivedAtMs: Int64(step)))
        }
        for key in [series, other] {
            for lowerBound: Int64 in [0, 40, 90, 1_000] {
                let expected = (model[key] ?? [:]).compactMap { client, buckets -> (client: String, counts: OutcomeCounts)? in
                    let counts = buckets.filter { $0.key >= lowerBound }.values.reduce(OutcomeCounts.zero, +)
                    return counts.attempts > 0 ? (client, counts) : nil
                }.sorted {
                    ($0.counts.duplicateRatio, $0.counts.attempts, $1.client)
                        > ($1.counts.duplicateRatio, $1.counts.attempts, $0.client)
                }
                let top = clients.top(of: key, fromMs: lowerBound, limit: 100)
                #expect(top.map(\.client) == expected.map(\.client))
                #expect(top.map(\.counts) == expected.map(\.counts))
                #expect(clients.top(of: key, fromMs: lowerBound, limit: 2).map(\.client) == expected.prefix(2).map(\.client))
            }
        }
    }

    @Test func pruningForgetsIdleClientsAndFreesTheirPlace() {
        var clients = ClientAttribution(maxClientsPerSeries: 2)
        let once = OutcomeCounts(miss: 1, hit: 1)
        clients.apply(group([(series, "old", 0, once)], receivedAtMs: 1_000))
        clients.apply(group([(series, "new", 50_000, once)], receivedAtMs: 60_000))
        #expect(clients.resolveCells(cells([(series, "third", 60_000, once)])).admitted.isEmpty)

        clients.prune(nowMs: 70_000, retentionMs: 30_000, bucketWidthMs: 10_000)
        #expect(clients.top(of: series, fromMs: 0, limit: 10).map(\.client) == ["new"])
        #expect(clients.resolveCells(cells([(series, "third", 60_000, once)])).admitted == [series: ["third"]])
        clients.apply(group([(series, "third", 60_000, once)], receivedAtMs: 60_000))
        #expect(clients.top(of: series, fromMs: 0, limit: 10).map(\.client).sorted() == ["new", "third"])
        clients.prune(nowMs: 100_000, retentionMs: 30_000, bucketWidthMs: 10_000)
        #expect(clients.top(of: series, fromMs: 0, limit: 10).isEmpty)
        #expect(clients.resolveCells(cells([(series, "fourth", 100_000, once)])).admitted == [series: ["fourth"]])
    }

    /// A series with many callers, half of them idle: after pruning, the callers left are still known (not admitted
    /// again), the pruned ones are new, and their old buckets are gone.
    @Test func manyCallersStayKnownAcrossPruning() {
        var clients = ClientAttribution(maxClientsPerSeries: 100)
        let once = OutcomeCounts(miss: 1)
        let names = (0..<40).map { "caller-\($0)" }
        for (n, name) in names.enumerated() {
            // Even callers stay active; odd ones are seen once, long ago.
            clients.apply(group([(series, name, 0, once)], receivedAtMs: n % 2 == 0 ? 60_000 : 1_000))
        }
        #expect(clients.resolveCells(cells(names.map { (series, $0, 60_000, once) })).admitted.isEmpty)
        clients.prune(nowMs: 70_000, retentionMs: 30_000, bucketWidthMs: 10_000)
        let (_, admitted) = clients.resolveCells(cells(names.map { (series, $0, 60_000, once) }))
        #expect(admitted == [series: Set(names.enumerated().filter { $0.offset % 2 == 1 }.map(\.element))])
        #expect(clients.top(of: series, fromMs: -10_000, limit: 100).count == 0)
        clients.apply(group(names.map { (series, $0, 60_000, once) }, receivedAtMs: 60_000))
        #expect(clients.top(of: series, fromMs: 60_000, limit: 100).map(\.client).sorted() == names.sorted())
    }
}
