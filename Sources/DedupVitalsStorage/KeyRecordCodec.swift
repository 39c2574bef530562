import DedupVitalsCore

/// The fixed 78-byte storage form of a ``KeyRecord`` (little-endian), written into key-log entries.
enum KeyRecordCodec {
    static let size = 78

    /// Appends the storage form of `record` to `bytes`.
    static func append(_ record: KeyRecord, to bytes: inout [UInt8]) {
        func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
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
        put(record.payloadFingerprint)
        put(UInt64(0))  // the low half of a payload hash, stored by version 3; no longer kept
    }

    /// Decodes the record starting at `offset` of `bytes` (which must hold ``size`` bytes from there).
    static func decode(_ bytes: UnsafeRawBufferPointer, at start: Int, seriesIndex: UInt32) -> KeyRecord {
        var offset = start
        func get<T: FixedWidthInteger>(_: T.Type) -> T {
            let value = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
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
        record.payloadFingerprint = get(UInt64.self)
        _ = get(UInt64.self)
        return record
    }
}
