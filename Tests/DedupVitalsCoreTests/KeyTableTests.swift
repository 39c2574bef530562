import Testing

@testable import DedupVitalsCore

/// `KeyTable` against a dictionary and a creation-order list, under random inserts, updates and removals.
@Suite struct KeyTableTests {
    /// A record; every third has traces (kept beside the slots), and records of the same key alternate between
    /// having and not having them.
    static func record(_ n: Int) -> KeyRecord {
        var record = KeyRecord(seriesIndex: UInt32(n % 7), createdMs: Int64(n))
        record.miss = UInt32(n % 13)
        if n % 3 == 0 {
            record.traces = KeyTraces(firstMiss: TraceContext(traceHigh: UInt64(n), traceLow: 1, span: UInt64(n)))
        }
        return record
    }

    /// The default table; one with chunks of 16 slots whose positions are renumbered after 6,000 insertions (so
    /// that chunks are freed, compaction moves slots across chunks, and renumbering happens many times) and whose
    /// index entries keep 2-bit tags (so that tags often match for different keys); and one whose positions get only
    /// the bits the index size needs (renumbered whenever they outgrow them).
    @Test(arguments: [
        KeyTable(), KeyTable(chunkShift: 4, positionLimit: 6_000, minimumPositionBits: 30),
        KeyTable(chunkShift: 4, positionLimit: Int(UInt32.max) - 1, minimumPositionBits: 2),
    ])
    func behavesLikeADictionaryInCreationOrder(_ empty: KeyTable) {
        var generator = SystemRandomNumberGenerator()
        var table = empty
        var model: [KeyHash: KeyRecord] = [:]
        var order: [KeyHash] = []
        // The labels last seen, and the oldest label, which must never drop.
        var labels: [KeyHash: Int] = [:]
        var oldestLabel = table.oldestLabel
        var labelDrops = 0
        // Keys share low bits on purpose (collisions in the index), and come back after removal.
        func key(_ n: Int) -> KeyHash { KeyHash(high: UInt64(n), low: UInt64(n % 512) << 20) }
        for step in 0..<60_000 {
            let k = key(Int.random(in: 0..<5_000, using: &generator))
            switch Int.random(in: 0..<10, using: &generator) {
            case 0..<6:
                // Every 50th record is too wide to pack and is kept aside.
                var value = Self.record(step)
                if step % 50 == 0 { value.hit = 70_000 }
                let previous = table.updateValue(value, forKey: k)
                #expect(previous == model[k])
                if model.updateValue(value, forKey: k) == nil { order.append(k) }
            case 6..<9:
                #expect(table.removeValue(forKey: k) == model.removeValue(forKey: k))
                order.removeAll { $0 == k }
                labels[k] = nil
            case 9 where step % 2 == 0:
                // Eviction's way: the oldest goes, its index entry stays behind as a deleted mark.
                if let oldest = order.first {
                    #expect(table.oldest?.key == oldest)
                    table.removeOldest()
                    model[oldest] = nil
                    order.removeFirst()
                    labels[oldest] = nil
                }
            default:
                #expect(table[k] == model[k])
            }
            if table.oldestLabel < oldestLabel { labelDrops += 1 }
            oldestLabel = table.oldestLabel
            if step % 5_000 == 0 { Self.expectLabels(of: table, inOrder: order, notAbove: &labels) }
            if step % 5_000 == 0 {
                #expect(table.count == model.count)
                var seen: [KeyHash] = []
                table.forEach { key, record in
                    seen.append(key)
                    #expect(model[key] == record)
                }
                #expect(seen == order)
                #expect(table.oldest?.key == order.first)
            }
        }
        #expect(labelDrops == 0, "the oldest label dropped")
        // Empty it oldest first, as eviction does, by key and as the oldest in turn.
        while let oldest = table.oldest {
            #expect(oldest.key == order.removeFirst())
            if order.count % 2 == 0 { table.removeValue(forKey: oldest.key) } else { table.removeOldest() }
            #expect(table[oldest.key] == nil)
        }
        #expect(table.isEmpty && order.isEmpty && table.unpackedCount == 0 && table.tracedCount == 0)
    }

    /// Labels follow creation order, lie between the oldest label and the bound, and never rise (renumbering may lower
    /// them); `labels` holds each key's last label.
    static func expectLabels(of table: KeyTable, inOrder order: [KeyHash], notAbove labels: inout [KeyHash: Int]) {
        var previous = Int.min
        var faults: [String] = []
        for key in order {
            guard let label = table.label(of: key) else {
                faults.append("a tracked key has no label")
                break
            }
            if label <= previous || label >= table.labelBound { faults.append("label \(label) after \(previous)") }
            if let last = labels[key], label > last { faults.append("a label rose from \(last) to \(label)") }
            labels[key] = label
            previous = label
        }
        #expect(faults.isEmpty, "\(faults.prefix(3))")
        #expect(table.oldestLabel == order.first.flatMap(table.label(of:)) ?? table.labelBound)
    }

    /// 48 bytes of packed record (times as distances from the last sighting, 16-bit counts, the payload fingerprint;
    /// the traces kept aside) and 16 of key per slot: a cache line.
    @Test func aKeyTakesAbout72Bytes() {
        #expect(KeyTable.slotStride == 64)
    }

    /// Traces are kept aside by key: replaced, dropped when a record has none any more, and forgotten with the key,
    /// also when it is kept whole or evicted as the oldest.
    @Test func tracesAreKeptBesideTheSlots() {
        var table = KeyTable()
        let key = KeyHash(high: 7, low: 8)
        var record = Self.record(3)
        table.insert(record, forNewKey: key)
        #expect(table[key]?.traces === record.traces)
        record.traces = KeyTraces(firstMiss: TraceContext(traceHigh: 9, traceLow: 9, span: 9))
        table.updateValue(record, forKey: key)
        #expect(table[key]?.traces === record.traces)
        record.traces = nil
        table.updateValue(record, forKey: key)
        #expect(table[key] == record && table[key]?.traces == nil)
        record = Self.record(6)
        record.hit = 70_000
        table.updateValue(record, forKey: key)
        #expect(table.unpackedCount == 1 && table[key]?.traces === record.traces)
        record.hit = 1
        table.updateValue(record, forKey: key)
        #expect(table.unpackedCount == 0 && table[key]?.traces === record.traces)
        #expect(table.tracedCount == 1)
        table.removeOldest()
        #expect(table[key] == nil && table.tracedCount == 0)
        table.insert(Self.record(3), forNewKey: key)
        record.traces = nil
        record.hit = 70_000
        table.updateValue(record, forKey: key)
        #expect(table.tracedCount == 0 && table[key] == record)
        table.removeValue(forKey: key)
        #expect(table.isEmpty && table.unpackedCount == 0 && table.tracedCount == 0)
    }

    /// Evicting oldest first, as at the key cap, frees the chunks left behind: the slots stay about the tracked keys,
    /// not every key ever tracked.
    @Test func evictingTheOldestFreesTheirChunks() {
        var table = KeyTable(chunkShift: 4, positionLimit: 1_000)
        for n in 0..<10_000 {
            table.insert(Self.record(n), forNewKey: KeyHash(high: UInt64(n), low: UInt64(n) &* 0x9E37_79B9))
            if table.count > 100 { table.removeOldest() }
            #expect(table.chunkCount <= 100 / 16 + 2)
        }
        #expect(table.count == 100)
        #expect(table.oldest?.key == KeyHash(high: 9_900, low: UInt64(9_900) &* 0x9E37_79B9))
        var expected = 9_900
        table.forEach { key, record in
            #expect(key.high == UInt64(expected) && record == Self.record(expected))
            expected += 1
        }
        #expect(expected == 10_000)
    }

    /// The oldest key comes out with its record as the table kept it: packed, with its traces, or whole when it did
    /// not fit; nothing it kept aside stays behind.
    @Test func removingTheOldestReturnsItsRecord() {
        var table = KeyTable()
        var wide = KeyRecord(seriesIndex: 4, createdMs: 1_800_000_000_000)
        wide.lastSeenMs = wide.createdMs + 60 * 86_400_000
        wide.open = true
        var traced = Self.record(3)
        traced.open = true
        let records = [Self.record(1), traced, wide]
        for (n, record) in records.enumerated() { table.insert(record, forNewKey: KeyHash(high: UInt64(n), low: 5)) }
        #expect(table.tracedCount == 1 && table.unpackedCount == 1)
        for (n, record) in records.enumerated() {
            let removed = table.removeOldest()
            #expect(removed?.key == KeyHash(high: UInt64(n), low: 5))
            #expect(removed?.record == record)
            #expect(removed?.record.traces === record.traces)
            #expect(removed?.isOpen == record.open && removed?.seriesIndex == record.seriesIndex)
        }
        #expect(table.isEmpty && table.tracedCount == 0 && table.unpackedCount == 0)
        #expect(table.removeOldest() == nil)
    }

    /// The chunk that eviction empties at the oldest end is kept, and the next chunk the newest end starts is that one
    /// (its memory already in place) rather than a new allocation.
    @Test func aChunkEmptiedAtTheOldestEndIsReusedAtTheNewest() {
        var table = KeyTable(chunkShift: 4, positionLimit: 1_000)
        func insert(_ n: Int) { table.insert(Self.record(n), forNewKey: KeyHash(high: UInt64(n), low: UInt64(n) &* 0x9E37_79B9)) }
        for n in 0..<32 { insert(n) }
        #expect(table.chunkCount == 2 && table.spareCapacity == 0)
        for _ in 0..<16 { table.removeOldest() }
        #expect(table.chunkCount == 1 && table.spareCapacity >= 16)
        insert(32)
        #expect(table.chunkCount == 2 && table.spareCapacity == 0)
        for n in 33..<48 { insert(n) }
        var expected = 16
        table.forEach { key, record in
            #expect(key.high == UInt64(expected) && record == Self.record(expected))
            expected += 1
        }
        #expect(expected == 48)
    }

    /// A record too wide to pack is kept aside exactly, goes back into its slot once it fits again, and leaves with
    /// its key.
    @Test func aRecordTooWideToPackIsKeptAsideExactly() {
        var table = KeyTable()
        let key = KeyHash(high: 1, low: 2)
        var record = KeyRecord(seriesIndex: 3, createdMs: 1_800_000_000_000)
        record.lastSeenMs = record.createdMs + 60 * 86_400_000
        record.miss = 1
        table.insert(record, forNewKey: key)
        table.insert(Self.record(5), forNewKey: KeyHash(high: 9, low: 9))
        #expect(table.unpackedCount == 1)
        #expect(table[key] == record)
        record.createdMs = record.lastSeenMs - 1
        table.updateValue(record, forKey: key)
        #expect(table.unpackedCount == 0)
        #expect(table[key] == record)
        record.mismatch = 65_536
        table.updateValue(record, forKey: key)
        #expect(table.unpackedCount == 1)
        #expect(table.oldest?.record == record)
        #expect(table.removeValue(forKey: key) == record)
        #expect(table.unpackedCount == 0 && table.count == 1 && table[key] == nil)
    }
}
