/// A small protocol-buffers wire-format writer: varints, fixed 64-bit doubles and length-delimited fields, appended
/// to a buffer that is reused from one message to the next.
///
/// Written by hand, like the reader of `Sources/DedupVitalsCore/OTLP/ProtobufReader.swift`, rather than generated
/// by swift-protobuf: `/metrics` in the protobuf format writes a few hundred thousand small messages per scrape at
/// 10,000 series, and a generated encoder would first build one object per message (and need the plugin build).
/// The bytes go into memory of its own rather than a `[UInt8]`: a metric is written after one capacity check, with
/// plain stores, where an array checks capacity and uniqueness on every appended byte (measured: the array form
/// made the protobuf exposition cost as much CPU as the text one, docs/performance.md#scrape).
struct ProtobufEncoder: Sendable {
    enum WireType: UInt64 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
    }

    /// The buffer; replaced (copied) when it grows or when an encoder copy would write into a shared one.
    private final class Storage: @unchecked Sendable {
        let base: UnsafeMutableRawPointer
        let capacity: Int

        init(capacity: Int) {
            self.capacity = max(capacity, 64)
            base = .allocate(byteCount: self.capacity, alignment: 8)
        }

        deinit { base.deallocate() }
    }

    private var storage: Storage
    private(set) var count = 0
    /// Counts the bytes that would be written, writes none: the first pass over a `MetricFamily`, whose length
    /// precedes it, so that the family can then be written in chunks instead of into one buffer of its size.
    private let counting: Bool

    init(capacity: Int = 0) {
        storage = Storage(capacity: capacity)
        counting = false
    }

    private init(counting: Bool) {
        storage = Storage(capacity: 0)
        self.counting = counting
    }

    /// An encoder that only counts (see ``count``).
    static func counter() -> ProtobufEncoder { ProtobufEncoder(counting: true) }

    /// A copy of the bytes written (tests, small messages).
    var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        precondition(!counting, "a counting encoder has no bytes")
        return try body(UnsafeRawBufferPointer(start: storage.base, count: count))
    }

    /// Empties the buffer and keeps its capacity.
    mutating func removeAll() { count = 0 }

    /// Makes room for `extra` more bytes, which the unchecked writes below then fill.
    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        if !counting, count + extra > storage.capacity || !isKnownUniquelyReferenced(&storage) { grow(count + extra) }
    }

    private mutating func grow(_ needed: Int) {
        let larger = Storage(capacity: max(needed, storage.capacity * 2))
        larger.base.copyMemory(from: storage.base, byteCount: count)
        storage = larger
    }

    @inline(__always)
    private mutating func put(_ byte: UInt8) {
        if !counting { storage.base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self) }
        count += 1
    }

    @inline(__always)
    private mutating func putFixed64(_ value: UInt64) {
        if !counting { storage.base.storeBytes(of: value.littleEndian, toByteOffset: count, as: UInt64.self) }
        count += 8
    }

    @inline(__always)
    private mutating func putVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            put(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        put(UInt8(value))
    }

    @inline(__always)
    private mutating func put(_ raw: UnsafeRawBufferPointer) {
        if !counting, let source = raw.baseAddress {
            (storage.base + count).copyMemory(from: source, byteCount: raw.count)
        }
        count += raw.count
    }

    mutating func varint(_ value: UInt64) {
        reserve(10)
        putVarint(value)
    }

    mutating func tag(_ field: Int, _ wireType: WireType) {
        varint(UInt64(field) << 3 | wireType.rawValue)
    }

    /// A `uint64`/`int64`/`enum` field (a negative `int64` takes ten bytes, as the format says).
    mutating func varintField(_ field: Int, _ value: UInt64) {
        tag(field, .varint)
        varint(value)
    }

    /// A `sint32`/`sint64` field: zigzag-encoded, so that small negative numbers stay short.
    mutating func signedField(_ field: Int, _ value: Int64) {
        tag(field, .varint)
        varint(Self.zigzag(value))
    }

    /// A `double` field.
    mutating func doubleField(_ field: Int, _ value: Double) {
        tag(field, .fixed64)
        fixed64(value.bitPattern)
    }

    mutating func fixed64(_ value: UInt64) {
        reserve(8)
        putFixed64(value)
    }

    /// A `string` or `bytes` field.
    mutating func bytesField(_ field: Int, _ value: UnsafeRawBufferPointer) {
        tag(field, .lengthDelimited)
        varint(UInt64(value.count))
        raw(value)
    }

    mutating func stringField(_ field: Int, _ value: String) {
        var value = value
        value.withUTF8 { bytesField(field, UnsafeRawBufferPointer($0)) }
    }

    /// The tag and length of an embedded message (or packed repeated field) of `length` bytes; its fields follow.
    mutating func messageHeader(_ field: Int, length: Int) {
        tag(field, .lengthDelimited)
        varint(UInt64(length))
    }

    /// An embedded message (or packed repeated field) whose fields `body` writes. Its length is not known before:
    /// one byte is reserved for it, which holds the length of every message under 128 bytes (all of them but
    /// histograms with classic buckets); a longer one moves its body up to make room.
    mutating func nested(_ field: Int, _ body: (inout ProtobufEncoder) -> Void) {
        tag(field, .lengthDelimited)
        reserve(1)
        let start = count
        put(0)
        body(&self)
        let length = count - start - 1
        let size = Self.varintSize(length)
        if counting {
            count += size - 1
            return
        }
        if size > 1 {
            reserve(size - 1)
            (storage.base + start + size).copyMemory(from: storage.base + start + 1, byteCount: length)
            count += size - 1
        }
        var value = UInt64(length)
        for offset in 0..<size {
            let byte = UInt8(truncatingIfNeeded: value) | (offset < size - 1 ? 0x80 : 0)
            storage.base.storeBytes(of: byte, toByteOffset: start + offset, as: UInt8.self)
            value >>= 7
        }
    }

    /// Bytes encoded elsewhere (pre-encoded label pairs, a whole embedded message).
    mutating func raw(_ encoded: UnsafeRawBufferPointer) {
        reserve(encoded.count)
        put(encoded)
    }

    mutating func raw(_ encoded: [UInt8]) {
        encoded.withUnsafeBytes { raw($0) }
    }

    /// A whole counter or gauge `Metric` as field `metricField` of its family: the label pairs `shared` then `own`
    /// (pre-encoded `Metric.label` fields), then `valueField` (`counter` or `gauge`) holding `value`, left out when
    /// it is +0 (the default). The hot path of the protobuf `/metrics`: one capacity check, the lengths computed.
    @inline(__always)
    mutating func scalarMetric(
        _ metricField: Int, _ shared: UnsafeRawBufferPointer, _ own: UnsafeRawBufferPointer, valueField: Int, value: Double
    ) {
        let valueBody = value.bitPattern == 0 ? 0 : 9
        let length = shared.count + own.count + 2 + valueBody
        if counting {
            count += Self.messageSize(metricField, length: length)
            return
        }
        reserve(length + 11)
        putVarint(UInt64(metricField) << 3 | WireType.lengthDelimited.rawValue)
        putVarint(UInt64(length))
        put(shared)
        put(own)
        putVarint(UInt64(valueField) << 3 | WireType.lengthDelimited.rawValue)
        put(UInt8(valueBody))
        if valueBody > 0 {
            put(UInt8(1 << 3 | WireType.fixed64.rawValue))
            putFixed64(value.bitPattern)
        }
    }

    /// A `Metric` as field `metricField`: the label pairs `labels`, then field `field` holding the encoded message
    /// `body` (a histogram encoded once and written for many series).
    mutating func messageMetric(
        _ metricField: Int, _ labels: UnsafeRawBufferPointer, field: Int, body: UnsafeRawBufferPointer
    ) {
        let length = labels.count + Self.messageSize(field, length: body.count)
        if counting {
            count += Self.messageSize(metricField, length: length)
            return
        }
        messageHeader(metricField, length: length)
        raw(labels)
        messageHeader(field, length: body.count)
        raw(body)
    }

    static func zigzag(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value << 1) ^ (value >> 63))
    }

    /// Bytes a varint of `value` takes.
    static func varintSize(_ value: UInt64) -> Int {
        value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
    }

    static func varintSize(_ value: Int) -> Int { varintSize(UInt64(value)) }

    /// Bytes a tag of `field` takes.
    static func tagSize(_ field: Int) -> Int { varintSize(UInt64(field) << 3) }

    /// Bytes an embedded message of `length` bytes takes in its parent, tag and length included.
    static func messageSize(_ field: Int, length: Int) -> Int { tagSize(field) + varintSize(length) + length }
}
