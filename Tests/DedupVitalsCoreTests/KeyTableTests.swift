import DedupVitalsCore
import Testing

/// `KeyTable` against a dictionary and a creation-order list, under random inserts, updates and removals.
@Suite struct KeyTableTests {
    static func record(_ n: Int) -> KeyRecord {
        var record = KeyRecord(seriesIndex: UInt32(n % 7), createdMs: Int64(n))
        record.miss = UInt32(n % 13)
        return record
    }

    @Test func behavesLikeADictionaryInCreationOrder() {
        var generator = SystemRandomNumberGenerator()
        var table = KeyTable()
        var model: [KeyHash: KeyRecord] = [:]
        var order: [KeyHash] = []
        // Keys share low bits on purpose (collisions in the index), and come back after removal.
        func key(_ n: Int) -> KeyHash { KeyHash(high: UInt64(n), low: UInt64(n % 512) << 20) }
        for step in 0..<60_000 {
            let k = key(Int.random(in: 0..<5_000, using: &generator))
            switch Int.random(in: 0..<10, using: &generator) {
            case 0..<6:
                let value = Self.record(step)
                let previous = table.updateValue(value, forKey: k)
                #expect(previous == model[k])
                if model.updateValue(value, forKey: k) == nil { order.append(k) }
            case 6..<9:
                #expect(table.removeValue(forKey: k) == model.removeValue(forKey: k))
                order.removeAll { $0 == k }
            default:
                #expect(table[k] == model[k])
            }
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
        // Empty it oldest first, as eviction does.
        while let oldest = table.oldest {
            #expect(oldest.key == order.removeFirst())
            table.removeValue(forKey: oldest.key)
        }
        #expect(table.isEmpty && order.isEmpty)
    }

    /// 88 bytes of record (84 used: counts, times, the payload fingerprint and one pointer to the traces, nil for
    /// keys reported without trace context) and 16 of key per slot.
    @Test func aKeyTakesAbout110Bytes() {
        #expect(MemoryLayout<KeyRecord>.stride <= 88)
    }
}
