/// Reads the protobuf wire format (https://protobuf.dev/programming-guides/encoding/) from a byte range: tags,
/// varints, fixed-width scalars and length-delimited fields. Every read is bounds-checked; a malformed or truncated
/// input throws with the byte offset, never traps.
///
/// Just what the OTLP logs decoder needs: it reads the handful of messages of an `ExportLogsServiceRequest` and
/// skips every other field by its wire type, so unknown and future fields cost one bounds check each.
struct ProtobufReader {
    enum WireType: UInt8 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
        case fixed32 = 5
    }

    struct Malformed: Error {
        var message: String
        var offset: Int
    }

    let buffer: UnsafeBufferPointer<UInt8>
    private(set) var pos: Int
    let end: Int

    init(_ buffer: UnsafeBufferPointer<UInt8>, range: Range<Int>) {
        self.buffer = buffer
        pos = range.lowerBound
        end = range.upperBound
    }

    var isAtEnd: Bool { pos >= end }

    /// The next field's number and wire type; groups (wire types 3 and 4, deprecated) and field number 0 are errors.
    mutating func readTag() throws(Malformed) -> (field: UInt64, wireType: WireType) {
        let start = pos
        let key = try readVarint()
        guard let wireType = WireType(rawValue: UInt8(key & 7)) else {
            throw Malformed("unsupported wire type \(key & 7)", offset: start)
        }
        let field = key >> 3
        guard field > 0 else { throw Malformed("field number 0", offset: start) }
        return (field, wireType)
    }

    mutating func readVarint() throws(Malformed) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        let start = pos
        while pos < end {
            let byte = buffer[pos]
            pos += 1
            guard shift < 64, shift < 63 || byte <= 1 else { throw Malformed("varint longer than 64 bits", offset: start) }
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
        throw Malformed("truncated varint", offset: start)
    }

    mutating func readFixed64() throws(Malformed) -> UInt64 {
        guard end - pos >= 8 else { throw Malformed("truncated fixed64", offset: pos) }
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(buffer[pos + i]) << (8 * UInt64(i)) }
        pos += 8
        return value
    }

    /// The byte range of a length-delimited field's contents.
    mutating func readLengthDelimited() throws(Malformed) -> Range<Int> {
        let start = pos
        let length = try readVarint()
        guard length <= UInt64(end - pos) else {
            throw Malformed("length \(length) runs past the end of its message", offset: start)
        }
        let range = pos..<(pos + Int(length))
        pos = range.upperBound
        return range
    }

    /// A length-delimited field as a string, which must be valid UTF-8 (as proto3 requires of `string`).
    mutating func readBytes() throws(Malformed) -> [UInt8] {
        Array(UnsafeBufferPointer(rebasing: buffer[try readLengthDelimited()]))
    }

    /// Skips the value of a field of `wireType`.
    mutating func skip(_ wireType: WireType) throws(Malformed) {
        switch wireType {
        case .varint: _ = try readVarint()
        case .fixed64:
            guard end - pos >= 8 else { throw Malformed("truncated fixed64", offset: pos) }
            pos += 8
        case .fixed32:
            guard end - pos >= 4 else { throw Malformed("truncated fixed32", offset: pos) }
            pos += 4
        case .lengthDelimited: _ = try readLengthDelimited()
        }
    }

    /// A reader over a nested message's bytes.
    func nested(_ range: Range<Int>) -> ProtobufReader { ProtobufReader(buffer, range: range) }

    /// Checks the wire type of a known field (a mismatch is a malformed message).
    func expect(_ wireType: WireType, is expected: WireType, field: StaticString) throws(Malformed) {
        guard wireType == expected else {
            throw Malformed("field \(field) has wire type \(wireType.rawValue), expected \(expected.rawValue)", offset: pos)
        }
    }
}

extension ProtobufReader.Malformed {
    init(_ message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }
}
