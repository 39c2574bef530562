import Testing

@testable import DedupVitalsCore
@testable import DedupVitalsServer

/// The wire-format writer of the protobuf `/metrics`, read back with the project's reader.
@Suite struct ProtobufEncoderTests {
    @Test(arguments: [0, 1, 127, 128, 300, 16_383, 16_384, 2_097_152, Int(UInt32.max), Int.max])
    func varintsRoundTripAndTheirSizeIsKnownBeforehand(value: Int) throws {
        var encoder = ProtobufEncoder()
        encoder.varint(UInt64(value))
        #expect(encoder.count == ProtobufEncoder.varintSize(value))
        try encoder.bytes.withUnsafeBufferPointer { buffer throws in
            var reader = ProtobufReader(buffer, range: 0..<buffer.count)
            let read = try reader.readVarint()
            #expect(read == UInt64(value))
            #expect(reader.isAtEnd)
        }
    }

    @Test func zigzagKeepsSmallNegativeNumbersShort() {
        #expect(ProtobufEncoder.zigzag(0) == 0)
        #expect(ProtobufEncoder.zigzag(-1) == 1)
        #expect(ProtobufEncoder.zigzag(1) == 2)
        #expect(ProtobufEncoder.zigzag(-2) == 3)
        #expect(ProtobufEncoder.zigzag(Int64.min) == UInt64.max)
    }

    /// A nested message reserves one length byte; longer bodies move up to make room for a longer length.
    @Test(arguments: [0, 1, 127, 128, 129, 16_383, 16_384, 70_000])
    func nestedMessagesOfAnyLengthCarryTheirLength(length: Int) throws {
        var encoder = ProtobufEncoder()
        encoder.varintField(1, 7)
        encoder.nested(4) { body in
            for index in 0..<length { body.raw([UInt8(truncatingIfNeeded: index)]) }
        }
        encoder.doubleField(2, 0.5)
        #expect(encoder.count == ProtobufEncoder.tagSize(1) + 1 + ProtobufEncoder.messageSize(4, length: length) + 9)
        try encoder.bytes.withUnsafeBufferPointer { buffer throws in
            var reader = ProtobufReader(buffer, range: 0..<buffer.count)
            let first = try reader.readTag()
            let seven = try reader.readVarint()
            let nested = try reader.readTag()
            let range = try reader.readLengthDelimited()
            let last = try reader.readTag()
            let half = Double(bitPattern: try reader.readFixed64())
            #expect(first.field == 1 && first.wireType == .varint && seven == 7)
            #expect(nested.field == 4 && nested.wireType == .lengthDelimited)
            #expect(range.count == length)
            #expect(Array(buffer[range]) == (0..<length).map { UInt8(truncatingIfNeeded: $0) })
            #expect(last.field == 2 && last.wireType == .fixed64 && half == 0.5)
            #expect(reader.isAtEnd)
        }
    }

    @Test func aScalarMetricOfZeroLeavesTheValueOut() throws {
        var encoder = ProtobufEncoder()
        let labels = ProtobufMetrics.labelPairs(["service"], ["payments"])
        labels.withUnsafeBytes { labels in
            ProtobufMetrics.appendScalarMetric(
                labels, UnsafeRawBufferPointer(start: nil, count: 0), valueField: 3, value: 0, to: &encoder)
            ProtobufMetrics.appendScalarMetric(
                labels, UnsafeRawBufferPointer(start: nil, count: 0), valueField: 2, value: -0.0, to: &encoder)
        }
        // Field 4 (the metric): labels, then an empty counter; then a gauge that keeps its -0 (not the default).
        #expect(encoder.count == 2 * (2 + labels.count + 2) + 9)
        let family = ProtobufMetrics.header(MetricsCatalog.events) + encoder.bytes
        var delimited = ProtobufEncoder()
        delimited.varint(UInt64(family.count))
        delimited.raw(family)
        let decoded = try MetricFamilyDecoder.decode(delimited.bytes)
        #expect(decoded.first?.metrics.map(\.counter) == [0, nil])
        #expect(decoded.first?.metrics.last?.gauge?.sign == .minus)
    }
}
