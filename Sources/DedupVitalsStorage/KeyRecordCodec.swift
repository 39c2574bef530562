import DedupVitalsCore

/// The fixed 78-byte storage form of a ``KeyRecord`` (little-endian) of version 3's `key_records` table. The v4
/// migration copies such records into key-log entries of tag 1, which are read with it; new entries use
/// ``CompactKeyRecordCodec``.
enum KeyRecordCodec {
    static let size = 78

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

/// The compact storage form of a ``KeyRecord`` (key-log entries of tag 2): `createdMs` as a zigzag varint, the other
/// times as varints relative to it (0 stays 0), counts as varints, a flag byte (open, has payload), the variant
/// count, and the payload fingerprint only when there is one. Typically 20–30 bytes instead of 78.
enum CompactKeyRecordCodec {
    /// The most bytes a record takes: a 10-byte varint for each time, 5 for each count, 2 flag bytes, the payload.
    static let maximumSize = 5 * 10 + 5 * 5 + 2 + 8

    static func write(_ record: KeyRecord, to writer: inout ByteWriter) {
        writer.varint(zigzag(record.createdMs))
        func time(_ value: Int64) { writer.varint(value == 0 ? 0 : zigzag(value &- record.createdMs) &+ 1) }
        time(record.firstMissMs)
        time(record.lastMissMs)
        time(record.completedMs)
        time(record.lastSeenMs)
        writer.varint(UInt64(record.miss))
        writer.varint(UInt64(record.hit))
        writer.varint(UInt64(record.inFlight))
        writer.varint(UInt64(record.completed))
        writer.varint(UInt64(record.mismatch))
        writer.byte((record.open ? 1 : 0) | (record.payloadFingerprint != 0 ? 2 : 0))
        writer.byte(record.payloadVariants)
        if record.payloadFingerprint != 0 { writer.raw(record.payloadFingerprint.littleEndian) }
    }

    /// Decodes a record starting at `offset`; advances `offset` past it. Nil when the bytes end early or are malformed.
    static func decode(_ bytes: UnsafeRawBufferPointer, at offset: inout Int) -> KeyRecord? {
        guard let created = varint(bytes, &offset) else { return nil }
        let createdMs = unzigzag(created)
        func time() -> Int64? {
            guard let value = varint(bytes, &offset) else { return nil }
            return value == 0 ? 0 : createdMs &+ unzigzag(value &- 1)
        }
        func count() -> UInt32? {
            guard let value = varint(bytes, &offset), value <= UInt64(UInt32.max) else { return nil }
            return UInt32(value)
        }
        guard let firstMiss = time(), let lastMiss = time(), let completedAt = time(), let lastSeen = time(),
            let miss = count(), let hit = count(), let inFlight = count(), let completed = count(), let mismatch = count(),
            bytes.count - offset >= 2
        else { return nil }
        let flags = bytes[offset]
        var record = KeyRecord(seriesIndex: 0, createdMs: createdMs)
        record.payloadVariants = bytes[offset + 1]
        offset += 2
        if flags & 2 != 0 {
            guard bytes.count - offset >= 8 else { return nil }
            record.payloadFingerprint = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            offset += 8
        }
        record.open = flags & 1 != 0
        (record.firstMissMs, record.lastMissMs, record.completedMs, record.lastSeenMs) = (
            firstMiss, lastMiss, completedAt, lastSeen
        )
        (record.miss, record.hit, record.inFlight, record.completed, record.mismatch) = (miss, hit, inFlight, completed, mismatch)
        return record
    }

    // MARK: Traces (entries of tag 3)

    /// The most bytes a trace section takes: a flag byte and two traces of 24 bytes.
    static let maximumTracesSize = 1 + 2 * 24

    /// Writes the trace section that follows a record in a tag-3 entry: a flag byte (1: first miss, 2: repeated miss,
    /// 4: the repeat was a late retry rather than a double execution), then each trace present as its 16-byte trace
    /// id and 8-byte span id (0: none), big-endian.
    static func write(_ traces: KeyTraces, to writer: inout ByteWriter) {
        var flags: UInt8 = traces.firstMiss == nil ? 0 : 1
        if traces.repeatMiss != nil { flags |= 2 }
        if traces.repeatDetection == .lateRetry { flags |= 4 }
        writer.byte(flags)
        for trace in [traces.firstMiss, traces.repeatMiss].compactMap({ $0 }) {
            writer.raw(trace.traceHigh.bigEndian)
            writer.raw(trace.traceLow.bigEndian)
            writer.raw(trace.span.bigEndian)
        }
    }

    /// Decodes a trace section; nil when the bytes end early or hold an invalid (all-zero) trace id.
    static func decodeTraces(_ bytes: UnsafeRawBufferPointer, at offset: inout Int) -> KeyTraces?? {
        guard offset < bytes.count else { return nil }
        let flags = bytes[offset]
        offset += 1
        func trace() -> TraceContext?? {
            guard bytes.count - offset >= 24 else { return nil }
            func word(_ at: Int) -> UInt64 {
                UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset + at, as: UInt64.self))
            }
            defer { offset += 24 }
            guard let trace = TraceContext(traceHigh: word(0), traceLow: word(8), span: word(16)) else { return nil }
            return .some(trace)
        }
        var first: TraceContext?
        var repeated: TraceContext?
        if flags & 1 != 0 {
            guard let decoded = trace() else { return nil }
            first = decoded
        }
        if flags & 2 != 0 {
            guard let decoded = trace() else { return nil }
            repeated = decoded
        }
        guard first != nil || repeated != nil else { return .some(nil) }
        return .some(
            KeyTraces(firstMiss: first, repeatMiss: repeated, repeatDetection: flags & 4 != 0 ? .lateRetry : .doubleExecution))
    }

    static func varint(_ bytes: UnsafeRawBufferPointer, _ offset: inout Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count, shift < 64 {
            let byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
        return nil
    }

    static func zigzag(_ value: Int64) -> UInt64 { UInt64(bitPattern: (value << 1) ^ (value >> 63)) }
    static func unzigzag(_ value: UInt64) -> Int64 { Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1) }
}
