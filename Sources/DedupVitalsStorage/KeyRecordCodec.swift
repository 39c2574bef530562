import DedupVitalsCore
import Foundation

/// The fixed 78-byte storage form of a ``KeyRecord`` (little-endian). One blob binds faster than a dozen columns on
/// the ingest path.
enum KeyRecordCodec {
    static let size = 78

    static func encode(_ record: KeyRecord) -> Data {
        var data = Data(capacity: size)
        func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        put(record.createdMs)
        put(record.firstMissMs)
        put(record.lastMissMs)
        put(record.completedMs)
        put(record.lastSeenMs)
        put(record.miss)
        put(record.hit)
        put(record.inFlight)
        put(record.completed)
        put(record.mismatch)
        put(UInt8(record.open ? 1 : 0))
        put(record.payloadVariants)
        put(record.payload?.high ?? 0)
        put(record.payload?.low ?? 0)
        return data
    }

    static func decode(_ data: Data, seriesIndex: UInt32) -> KeyRecord? {
        guard data.count == size else { return nil }
        let bytes = [UInt8](data)
        var offset = 0
        func get<T: FixedWidthInteger>(_: T.Type) -> T {
            var value: T = 0
            for i in 0..<MemoryLayout<T>.size { value |= T(bytes[offset + i]) << (8 * i) }
            offset += MemoryLayout<T>.size
            return value
        }
        var record = KeyRecord(seriesIndex: seriesIndex, createdMs: get(Int64.self))
        record.firstMissMs = get(Int64.self)
        record.lastMissMs = get(Int64.self)
        record.completedMs = get(Int64.self)
        record.lastSeenMs = get(Int64.self)
        record.miss = get(UInt32.self)
        record.hit = get(UInt32.self)
        record.inFlight = get(UInt32.self)
        record.completed = get(UInt32.self)
        record.mismatch = get(UInt32.self)
        record.open = get(UInt8.self) == 1
        record.payloadVariants = get(UInt8.self)
        let high = get(UInt64.self)
        let low = get(UInt64.self)
        record.payload = high == 0 && low == 0 ? nil : KeyHash(high: high, low: low)
        return record
    }
}
