import DedupVitalsCore
import Testing

/// The client cells' table against a dictionary: the same sums, in the order first added, whatever the order cells
/// and callers come in.
@Suite struct ClientSlotTableTests {
    @Test func sumsWhatADictionarySumsInFirstAddedOrder() {
        var random = SystemRandomNumberGenerator()
        var table = ClientSlotTable()
        var model: [BatchDelta.ClientSlot: OutcomeCounts] = [:]
        var order: [BatchDelta.ClientSlot] = []
        #expect(table.position(cell: 0, client: 0) == nil)
        for step in 0..<5_000 {
            // Cells beyond those seen yet, repeats, and callers in any order.
            let cell = Int32.random(in: 0...Int32(min(step / 4, 700)), using: &random)
            let client = Int32.random(in: 0..<9, using: &random)
            let counts = OutcomeCounts(miss: Int64.random(in: 0...3, using: &random), hit: 1)
            let slot = BatchDelta.ClientSlot(cell: cell, client: client)
            if model[slot] == nil { order.append(slot) }
            model[slot, default: .zero] += counts
            table.add(counts, cell: cell, client: client)
        }
        #expect(table.count == model.count)
        #expect(table.keys == order)
        for (offset, (slot, counts)) in table.enumerated() {
            #expect(model[slot] == counts)
            #expect(table.position(cell: slot.cell, client: slot.client) == offset)
        }
        #expect(table.position(cell: 100_000, client: 0) == nil)
        #expect(table.position(cell: 0, client: 9) == nil)
    }
}
