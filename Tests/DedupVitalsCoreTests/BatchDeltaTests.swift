import DedupVitalsCore
import Testing

/// A batch's cells are kept in the order their events first touched them (BatchDelta.swift); what a delta means, and
/// so its equality, does not depend on that order.
@Suite struct BatchDeltaTests {
    static let t0: Int64 = 1_800_000_000_000

    static func delta(_ operations: [(String, Outcome, String)]) -> BatchDelta {
        let events = operations.map { operation, outcome, client in
            Event(service: "payments", operation: operation, outcome: outcome, client: client, timeMs: t0)
        }
        return BatchDelta(events: events, receivedAtMs: t0, bucketWidthMs: BucketClock.defaultWidthMs)
    }

    @Test func deltasOfTheSameEventsInAnotherOrderAreEqual() {
        let forward = Self.delta([("refund", .miss, "a"), ("capture", .hit, "b"), ("refund", .completed, "b")])
        let backward = Self.delta([("refund", .completed, "b"), ("capture", .hit, "b"), ("refund", .miss, "a")])
        #expect(forward.cells.keys.map(\.series.operation) == ["refund", "capture"])
        #expect(backward.cells.keys.map(\.series.operation) == ["refund", "capture"])
        #expect(backward.clientCells.keys.map(\.client) == ["b", "b", "a"])
        #expect(forward == backward)
        // Another count in one cell is another delta.
        #expect(forward != Self.delta([("refund", .miss, "a"), ("capture", .miss, "b"), ("refund", .completed, "b")]))
    }

    @Test func mergingSumsEachCellWhateverItsOrder() {
        var merged = Self.delta([("refund", .miss, "a"), ("capture", .miss, "a")])
        merged.merge(Self.delta([("capture", .miss, "a"), ("void", .hit, "a")]))
        let refund = SeriesKey(service: "payments", operation: "refund")
        let capture = SeriesKey(service: "payments", operation: "capture")
        let bucket = BucketClock.start(of: Self.t0, widthMs: BucketClock.defaultWidthMs)
        #expect(merged.cells[.init(series: capture, bucketStartMs: bucket)]?.miss == 2)
        #expect(merged.cells[.init(series: refund, bucketStartMs: bucket)]?.miss == 1)
        #expect(merged.cells.count == 3 && merged.clientCells.count == 3 && merged.eventCount == 4)
        let reordered = Self.delta([
            ("void", .hit, "a"), ("capture", .miss, "a"), ("refund", .miss, "a"), ("capture", .miss, "a"),
        ])
        #expect(merged == reordered)
    }

    /// Client cells are kept by position (their (series, bucket) cell's and their caller's); merged batches whose cells
    /// and callers come in other orders must still sum each named (series, client, bucket) cell, as counting the
    /// events one by one does.
    @Test func mergedClientCellsMatchTheEventsCountedByName() {
        var random = SystemRandomNumberGenerator()
        let outcomes: [Outcome] = [.miss, .hit, .completed, .inFlight, .mismatch]
        var expected: [BatchDelta.ClientCell: OutcomeCounts] = [:]
        var expectedCells: [BatchDelta.Cell: OutcomeCounts] = [:]
        var merged = BatchDelta()
        for _ in 0..<12 {
            let events = (0..<Int.random(in: 0...40, using: &random)).map { _ in
                Event(
                    service: "payments", operation: "op-\(Int.random(in: 0..<9, using: &random))",
                    outcome: outcomes.randomElement(using: &random)!,
                    client: Bool.random(using: &random) ? "caller-\(Int.random(in: 0..<5, using: &random))" : nil,
                    timeMs: Self.t0 + Int64.random(in: 0..<30_000, using: &random))
            }
            for event in events {
                let bucket = BucketClock.start(of: event.timeMs, widthMs: BucketClock.defaultWidthMs)
                expectedCells[.init(series: event.series, bucketStartMs: bucket), default: .zero][event.outcome] += 1
                if let client = event.client {
                    expected[.init(series: event.series, client: client, bucketStartMs: bucket), default: .zero][
                        event.outcome] += 1
                }
            }
            let batch = BatchDelta(events: events, receivedAtMs: Self.t0, bucketWidthMs: BucketClock.defaultWidthMs)
            #expect(Set(batch.clientNames).count == batch.clientNames.count)
            merged.merge(batch)
        }
        #expect(Dictionary(uniqueKeysWithValues: merged.cells.map { ($0.key, $0.value) }) == expectedCells)
        #expect(Dictionary(uniqueKeysWithValues: merged.clientCells.map { ($0.key, $0.value) }) == expected)
        #expect(merged.clientSlots.count == expected.count)
        for (slot, counts) in merged.clientSlots {
            let (series, client) = merged.names(of: slot)
            let bucket = merged.cells.keys[Int(slot.cell)].bucketStartMs
            #expect(expected[.init(series: series, client: client, bucketStartMs: bucket)] == counts)
        }
    }

    /// Setting the named client cells (as the client cap does, mapping callers to `_other`) keeps the positions
    /// right: two callers made one add up, and the names left are those still used.
    @Test func settingNamedClientCellsMergesThemByPosition() {
        var delta = Self.delta([("refund", .miss, "a"), ("refund", .hit, "b"), ("capture", .miss, "b")])
        let before = delta.clientCells
        delta.clientCells = before
        #expect(delta == Self.delta([("refund", .miss, "a"), ("refund", .hit, "b"), ("capture", .miss, "b")]))
        var renamed = BatchDelta.ClientCells()
        for (cell, counts) in before {
            var cell = cell
            if cell.client == "b" { cell.clientName = ClientName("_other") }
            renamed[cell, default: .zero] += counts
        }
        delta.clientCells = renamed
        #expect(delta.clientNames.map(\.name) == ["a", "_other"])
        let refund = SeriesKey(service: "payments", operation: "refund")
        let bucket = BucketClock.start(of: Self.t0, widthMs: BucketClock.defaultWidthMs)
        #expect(delta.clientCells[.init(series: refund, client: "_other", bucketStartMs: bucket)]?.hit == 1)
        #expect(delta.clientCells[.init(series: refund, client: "a", bucketStartMs: bucket)]?.miss == 1)
        #expect(delta.clientSlots.count == 3)
    }
}
