import CZlib
import Foundation

/// Writes OTLP `ExportLogsServiceRequest` bodies in protobuf, field by field from the opentelemetry-proto
/// definitions, independently of the service's decoder (so a decoder bug cannot cancel out in a test).
struct OTLPRequestBuilder {
    enum Value {
        case string(String)
        case int(Int64)
        case double(Double)
        case bool(Bool)
        case bytes([UInt8])
    }

    struct Record {
        var eventName: String? = "dedup_vitals.decision"
        var attributes: [(String, Value)] = []
        var timeUnixNano: UInt64 = 0
        var observedTimeUnixNano: UInt64 = 0
        var traceID: [UInt8] = []
        var spanID: [UInt8] = []
        /// A log body, which the receiver must skip.
        var body: String? = "a log line"
    }

    /// One ResourceLogs per service (nil: no resource), one ScopeLogs each.
    var resources: [(service: String?, records: [Record])] = []

    /// A decision record with the convention's attributes.
    static func decision(
        _ operation: String, _ outcome: String, key: String? = nil, payload: String? = nil, ageMs: Int64? = nil,
        timeUnixNano: UInt64 = 0, traceID: [UInt8] = [], spanID: [UInt8] = []
    ) -> Record {
        var attributes: [(String, Value)] = [
            ("dedup_vitals.operation", .string(operation)), ("dedup_vitals.outcome", .string(outcome)),
        ]
        if let key { attributes.append(("dedup_vitals.key", .string(key))) }
        if let payload { attributes.append(("dedup_vitals.payload", .string(payload))) }
        if let ageMs { attributes.append(("dedup_vitals.age_ms", .int(ageMs))) }
        attributes.append(("http.route", .string("/refunds")))
        return Record(attributes: attributes, timeUnixNano: timeUnixNano, traceID: traceID, spanID: spanID)
    }

    var protobuf: [UInt8] {
        var request: [UInt8] = []
        for (service, records) in resources {
            var resourceLogs: [UInt8] = []
            // scope_logs before resource: a receiver must not depend on field order.
            var scopeLogs: [UInt8] = []
            Self.bytes(1, Self.bytes(1, Array("test-scope".utf8)), &scopeLogs)  // scope { name }
            for record in records { Self.bytes(2, Self.encode(record), &scopeLogs) }
            Self.bytes(2, scopeLogs, &resourceLogs)
            if let service {
                Self.bytes(1, Self.bytes(1, Self.keyValue("service.name", .string(service))), &resourceLogs)
            }
            Self.bytes(1, resourceLogs, &request)
        }
        return request
    }

    static func encode(_ record: Record) -> [UInt8] {
        var out: [UInt8] = []
        if record.timeUnixNano != 0 { fixed64(1, record.timeUnixNano, &out) }
        varintField(2, 9, &out)  // severity_number INFO
        if let body = record.body { bytes(5, anyValue(.string(body)), &out) }
        for (key, value) in record.attributes { bytes(6, keyValue(key, value), &out) }
        if !record.traceID.isEmpty { bytes(9, record.traceID, &out) }
        if !record.spanID.isEmpty { bytes(10, record.spanID, &out) }
        if record.observedTimeUnixNano != 0 { fixed64(11, record.observedTimeUnixNano, &out) }
        if let name = record.eventName { bytes(12, Array(name.utf8), &out) }
        return out
    }

    static func keyValue(_ key: String, _ value: Value) -> [UInt8] {
        var out: [UInt8] = []
        bytes(1, Array(key.utf8), &out)
        bytes(2, anyValue(value), &out)
        return out
    }

    static func anyValue(_ value: Value) -> [UInt8] {
        var out: [UInt8] = []
        switch value {
        case .string(let text): bytes(1, Array(text.utf8), &out)
        case .bool(let flag): varintField(2, flag ? 1 : 0, &out)
        case .int(let number): varintField(3, UInt64(bitPattern: number), &out)
        case .double(let number): fixed64(4, number.bitPattern, &out)
        case .bytes(let data): bytes(7, data, &out)
        }
        return out
    }

    static func varint(_ value: UInt64, _ out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    static func varintField(_ field: UInt64, _ value: UInt64, _ out: inout [UInt8]) {
        varint(field << 3, &out)
        varint(value, &out)
    }

    static func fixed64(_ field: UInt64, _ value: UInt64, _ out: inout [UInt8]) {
        varint(field << 3 | 1, &out)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }

    static func bytes(_ field: UInt64, _ data: [UInt8], _ out: inout [UInt8]) {
        varint(field << 3 | 2, &out)
        varint(UInt64(data.count), &out)
        out.append(contentsOf: data)
    }

    static func bytes(_ field: UInt64, _ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        bytes(field, data, &out)
        return out
    }

    /// Reads the fields of a `google.rpc.Status` or `ExportLogsPartialSuccess`-like message: field → varint or bytes.
    static func fields(_ data: [UInt8]) -> [UInt64: Any] {
        var fields: [UInt64: Any] = [:]
        var pos = 0
        func varint() -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while pos < data.count {
                let b = data[pos]
                pos += 1
                value |= UInt64(b & 0x7F) << shift
                if b < 0x80 { break }
                shift += 7
            }
            return value
        }
        while pos < data.count {
            let key = varint()
            switch key & 7 {
            case 0: fields[key >> 3] = varint()
            case 2:
                let length = Int(varint())
                fields[key >> 3] = Array(data[pos..<min(pos + length, data.count)])
                pos += length
            default: return fields
            }
        }
        return fields
    }
}

/// gzip and zlib compression through the system zlib, for request bodies.
enum Compression {
    /// `windowBits`: 15 + 16 gzip, 15 zlib ("deflate"), -15 raw deflate.
    static func deflate(_ input: [UInt8], windowBits: Int32 = 15 + 16) -> [UInt8] {
        var stream = z_stream()
        precondition(
            deflateInit2_(
                &stream, Z_BEST_COMPRESSION, Z_DEFLATED, windowBits, 9, Z_DEFAULT_STRATEGY,
                zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK)
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 64)
        var input = input
        let produced = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = UInt32(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = UInt32(outBuffer.count)
                precondition(CZlib.deflate(&stream, Z_FINISH) == Z_STREAM_END)
                return outBuffer.count - Int(stream.avail_out)
            }
        }
        return Array(output[..<produced])
    }

    static func gzip(_ input: [UInt8]) -> [UInt8] { deflate(input) }
}
