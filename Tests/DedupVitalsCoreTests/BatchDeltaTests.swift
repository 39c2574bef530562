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
}
