import Testing

@testable import DedupVitalsCore

/// The pair table against a dictionary: lookups, the candidates a group's apply prefetches, removal.
@Suite struct ClientPairTableTests {
    func cell(_ series: Int, _ client: Int) -> BatchDelta.ClientCell {
        BatchDelta.ClientCell(
            series: SeriesKey(service: "svc", operation: "operation-\(series)"), client: "caller-\(client)",
            bucketStartMs: 0)
    }

    static func hash(_ cell: BatchDelta.ClientCell) -> UInt64 {
        ClientPairTable<Int>.hash(cell.series, cell.clientName)
    }

    @Test func findsWhatADictionaryFinds() {
        var table = ClientPairTable<Int>()
        var model: [BatchDelta.ClientCell: Int] = [:]
        #expect(table.find(cell(0, 0).series, cell(0, 0).clientName) == nil)
        #expect(table.candidates(count: 1) { _ in Self.hash(cell(0, 0)) } == [-1])
        for series in 0..<2_000 {
            for client in 0..<(series % 7 + 1) {
                let cell = cell(series, client)
                let position = table.insert(cell.series, cell.clientName, value: series * 10 + client)
                #expect(table.entries[position].value == series * 10 + client)
                model[cell] = series * 10 + client
            }
        }
        #expect(table.count == model.count)
        let probes = (0..<2_100).map { cell($0, $0 % 9) }
        let candidates = table.candidates(count: probes.count) { Self.hash(probes[$0]) }
        for (probe, candidate) in zip(probes, candidates) {
            let position = table.find(probe.series, probe.clientName)
            #expect(position.map { table.entries[$0].value } == model[probe])
            // A candidate that is the pair's entry is the one found; a wrong one (a tag that matched) is told apart.
            if table.isEntry(at: candidate, probe.series, probe.clientName) { #expect(candidate == position) }
            if position != nil { #expect(candidate >= 0) }
        }
        table.modifyValue(at: table.find(cell(5, 3).series, cell(5, 3).clientName)!) { $0 = -1 }
        model[cell(5, 3)] = -1
        table.removeAll { $0.value % 2 == 0 }
        model = model.filter { $0.value % 2 != 0 }
        #expect(table.count == model.count)
        for (cell, value) in model {
            #expect(table.find(cell.series, cell.clientName).map { table.entries[$0].value } == value)
        }
        #expect(table.find(cell(4, 0).series, cell(4, 0).clientName) == nil)
    }
}
