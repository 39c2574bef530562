/// Decodes a protobuf `ExportLogsServiceRequest` (opentelemetry-proto, `collector/logs/v1`) straight into
/// decisions: it walks ExportLogsServiceRequest → ResourceLogs → ScopeLogs → LogRecord and reads only the fields
/// of the convention (Resource and KeyValue attributes, AnyValue scalars, times, trace ids, `event_name`).
///
/// Hand-written over ``ProtobufReader`` rather than generated (docs/performance.md#otlp-logs): eight messages, of
/// which only a few fields matter, and every other field (log bodies, scope, unknown attributes) is skipped by length
/// without being parsed or copied.
public enum OTLPProtobufLogsDecoder {
    public static func decode(
        _ body: UnsafeBufferPointer<UInt8>, into convention: inout DecisionConvention
    ) throws(OTLPDecodingError) {
        do {
            try decodeRequest(ProtobufReader(body, range: 0..<body.count), &convention)
        } catch let failure as ProtobufReader.Malformed {
            throw .malformed("invalid protobuf at byte \(failure.offset): \(failure.message)")
        } catch let tooMany as DecisionConvention.TooManyDecisions {
            throw .tooManyDecisions(limit: tooMany.limit)
        } catch {
            throw .malformed("\(error)")
        }
    }

    public static func decode(_ body: [UInt8], into convention: inout DecisionConvention) throws(OTLPDecodingError) {
        try body.withUnsafeBufferPointer { (buffer) throws(OTLPDecodingError) in try decode(buffer, into: &convention) }
    }

    private static func decodeRequest(_ reader: ProtobufReader, _ convention: inout DecisionConvention) throws {
        var reader = reader
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readTag()
            if field == 1 {
                try reader.expect(wireType, is: .lengthDelimited, field: "resource_logs")
                try decodeResourceLogs(reader.nested(try reader.readLengthDelimited()), &convention)
            } else {
                try reader.skip(wireType)
            }
        }
    }

    /// ResourceLogs: its resource is read first, wherever it lies in the message, so every record knows its service.
    private static func decodeResourceLogs(_ message: ProtobufReader, _ convention: inout DecisionConvention) throws {
        var reader = message
        var service: String?
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readTag()
            if field == 1 {
                try reader.expect(wireType, is: .lengthDelimited, field: "resource")
                if let found = try resourceService(reader.nested(try reader.readLengthDelimited())) { service = found }
            } else {
                try reader.skip(wireType)
            }
        }
        reader = message
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readTag()
            if field == 2 {
                try reader.expect(wireType, is: .lengthDelimited, field: "scope_logs")
                try decodeScopeLogs(reader.nested(try reader.readLengthDelimited()), service: service, &convention)
            } else {
                try reader.skip(wireType)
            }
        }
    }

    /// The `service.name` attribute of a Resource.
    private static func resourceService(_ message: ProtobufReader) throws -> String? {
        var reader = message
        var service: String?
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readTag()
            if field == 1 {
                try reader.expect(wireType, is: .lengthDelimited, field: "attributes")
                let (key, value) = try keyValue(reader.nested(try reader.readLengthDelimited()))
                if let key { try validateKey(reader, key) }
                if let key, equals(reader, key, "service.name"), let value,
                    case .string(let range) = try anyValue(reader.nested(value))
                {
                    service = String(decoding: UnsafeBufferPointer(rebasing: reader.buffer[range]), as: UTF8.self)
                }
            } else {
                try reader.skip(wireType)
            }
        }
        return service
    }

    private static func decodeScopeLogs(
        _ message: ProtobufReader, service: String?, _ convention: inout DecisionConvention
    ) throws {
        var reader = message
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readTag()
            if field == 2 {
                try reader.expect(wireType, is: .lengthDelimited, field: "log_records")
                var record = try logRecord(reader.nested(try reader.readLengthDelimited()))
                record.resourceService = service
                try convention.add(record)
            } else {
                try reader.skip(wireType)
            }
        }
    }

    private static func logRecord(_ message: ProtobufReader) throws -> ProtobufDecisionRecord {
        var reader = message
        var record = ProtobufDecisionRecord(body: reader.buffer)
        var hasEventName = false
        var legacyDecision = false
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readTag()
            switch field {
            case 1:
                try reader.expect(wireType, is: .fixed64, field: "time_unix_nano")
                record.timeUnixNano = try reader.readFixed64()
            case 11:
                try reader.expect(wireType, is: .fixed64, field: "observed_time_unix_nano")
                record.observedTimeUnixNano = try reader.readFixed64()
            case 6:
                try reader.expect(wireType, is: .lengthDelimited, field: "attributes")
                let (key, value) = try keyValue(reader.nested(try reader.readLengthDelimited()))
                guard let key else { continue }
                if let attribute = DecisionAttribute(key: UnsafeBufferPointer(rebasing: reader.buffer[key])) {
                    record[attribute] = try value.map { try anyValue(reader.nested($0)) } ?? .other
                    continue  // an ASCII key: valid UTF-8
                }
                try validateKey(reader, key)
                if equals(reader, key, "event.name"), let value {
                    // The last `event.name` counts, as any repeated attribute.
                    if case .string(let range) = try anyValue(reader.nested(value)) {
                        legacyDecision = equals(reader, range, DecisionConvention.eventNameBytes)
                    } else {
                        legacyDecision = false
                    }
                }
            case 9:
                try reader.expect(wireType, is: .lengthDelimited, field: "trace_id")
                record.traceRange = try reader.readLengthDelimited()
            case 10:
                try reader.expect(wireType, is: .lengthDelimited, field: "span_id")
                record.spanRange = try reader.readLengthDelimited()
            case 12:
                try reader.expect(wireType, is: .lengthDelimited, field: "event_name")
                let range = try validatedString(reader, try reader.readLengthDelimited())
                record.isDecision = equals(reader, range, DecisionConvention.eventNameBytes)
                hasEventName = !range.isEmpty
            default:
                try reader.skip(wireType)
            }
        }
        if !hasEventName { record.isDecision = legacyDecision }
        return record
    }

    /// Attribute keys are strings: UTF-8. Checked for every key but those of the convention (ASCII, by matching).
    private static func validateKey(_ reader: ProtobufReader, _ key: Range<Int>) throws {
        guard UTF8Validation.isValid(UnsafeBufferPointer(rebasing: reader.buffer[key])) else {
            throw ProtobufReader.Malformed("invalid UTF-8 in an attribute key", offset: key.lowerBound)
        }
    }

    /// `range`, once its bytes are checked to be UTF-8 (a protobuf `string`); strings are made from it later, only
    /// for the values an event keeps.
    private static func validatedString(_ reader: ProtobufReader, _ range: Range<Int>) throws -> Range<Int> {
        guard UTF8Validation.isValid(UnsafeBufferPointer(rebasing: reader.buffer[range])) else {
            throw ProtobufReader.Malformed("invalid UTF-8 in a string field", offset: range.lowerBound)
        }
        return range
    }

    /// The byte ranges of a KeyValue's key and value (either may be missing); the key is not validated yet.
    private static func keyValue(_ message: ProtobufReader) throws -> (key: Range<Int>?, value: Range<Int>?) {
        var reader = message
        var key: Range<Int>?
        var value: Range<Int>?
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readTag()
            switch field {
            case 1:
                try reader.expect(wireType, is: .lengthDelimited, field: "key")
                key = try reader.readLengthDelimited()
            case 2:
                try reader.expect(wireType, is: .lengthDelimited, field: "value")
                value = try reader.readLengthDelimited()
            default:
                try reader.skip(wireType)
            }
        }
        return (key, value)
    }

    /// An AnyValue's scalar, a string as its (UTF-8 validated) range; arrays, maps and bytes are `.other` (skipped
    /// by length, never parsed).
    private static func anyValue(_ message: ProtobufReader) throws -> ProtobufDecisionRecord.Value {
        var reader = message
        var value = ProtobufDecisionRecord.Value.other
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readTag()
            switch (field, wireType) {
            case (1, .lengthDelimited): value = .string(try validatedString(reader, try reader.readLengthDelimited()))
            case (2, .varint): value = .bool(try reader.readVarint() != 0)
            case (3, .varint): value = .int(Int64(bitPattern: try reader.readVarint()))
            case (4, .fixed64): value = .double(Double(bitPattern: try reader.readFixed64()))
            case (1...4, _):
                throw ProtobufReader.Malformed("AnyValue field \(field) has wire type \(wireType.rawValue)", offset: reader.pos)
            default:
                try reader.skip(wireType)
                value = .other
            }
        }
        return value
    }

    private static func equals(_ reader: ProtobufReader, _ range: Range<Int>, _ literal: StaticString) -> Bool {
        UnsafeBufferPointer(rebasing: reader.buffer[range]).elementsEqual(
            UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }
}
