import DedupVitalsCore
import Testing

@testable import DedupVitalsStorage

/// A fold's sums against a dictionary's: rows whose cells repeat within and across rows, many more cells than the
/// first index holds, and the order the cells were first added in.
@Suite struct FoldTableTests {
    @Test func sumsWhatADictionarySums() {
        var table = FoldTable<AggregateFold.ClientCell>()
        var model: [AggregateFold.ClientCell: OutcomeCounts] = [:]
        var order: [AggregateFold.ClientCell] = []
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        #expect(table.isEmpty && table[.init(series: 1, client: 0, bucketStartMs: 0)] == nil)
        for row in 0..<60 {
            let cells = (0..<(row * 37 % 900)).map { index -> (key: AggregateFold.ClientCell, counts: OutcomeCounts) in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let key = AggregateFold.ClientCell(
                    series: Int64(state >> 40 % 3_000), client: Int32(state >> 20 & 7),
                    bucketStartMs: Int64(row / 20) * 10_000)
                return (key, OutcomeCounts(miss: Int64(index % 3), hit: 1, mismatch: Int64(row)))
            }
            table.add(cells)
            for cell in cells {
                if model[cell.key] == nil { order.append(cell.key) }
                model[cell.key, default: .zero] += cell.counts
            }
        }
        #expect(table.count == model.count)
        #expect(table.entries.map(\.key) == order)
        for (key, counts) in model { #expect(table[key] == counts) }
        #expect(table[.init(series: -1, client: 0, bucketStartMs: 0)] == nil)
    }
}
