/// A small protocol-buffers wire-format writer: varints, fixed 64-bit doubles and length-delimited fields, appended
/// to a byte array that is reused from one message to the next.
///
/// Written by hand, like the reader of `Sources/DedupVitalsCore/OTLP/ProtobufReader.swift`, rather than generated
/// by swift-protobuf: `/metrics` in the protobuf format writes a few hundred thousand small messages per scrape at
/// 10,000 series, and a generated encoder would first build one object per message (and need the plugin build).
/// Here a message whose length is known up front is written in place: the caller computes the length (see
/// ``varintSize(_:)``), writes the tag and length, then the fields.
struct ProtobufEncoder {
    enum WireType: UInt64 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
    }

    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    var count: Int { bytes.count }

    /// Empties the buffer and keeps its capacity.
    mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
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
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// A `string` or `bytes` field.
    mutating func bytesField(_ field: Int, _ value: some Collection<UInt8>) {
        tag(field, .lengthDelimited)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func stringField(_ field: Int, _ value: String) {
        bytesField(field, value.utf8)
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
        let start = bytes.count
        bytes.append(0)
        body(&self)
        let length = bytes.count - start - 1
        let size = Self.varintSize(length)
        if size > 1 { bytes.insert(contentsOf: repeatElement(0, count: size - 1), at: start + 1) }
        var value = UInt64(length)
        for offset in 0..<size {
            bytes[start + offset] = UInt8(truncatingIfNeeded: value) | (offset < size - 1 ? 0x80 : 0)
            value >>= 7
        }
    }

    /// Bytes encoded elsewhere (pre-encoded label pairs, a whole embedded message).
    mutating func raw(_ encoded: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: encoded)
    }

    mutating func raw(_ encoded: [UInt8]) {
        bytes.append(contentsOf: encoded)
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
