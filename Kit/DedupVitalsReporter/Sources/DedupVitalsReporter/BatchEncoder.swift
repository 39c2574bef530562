import NIOCore

/// Writes a batch as the JSON array `POST /v1/events` takes. Hand-written rather than through `JSONEncoder`: the
/// shape is fixed, and the sender encodes every batch once (retries resend the same bytes).
enum BatchEncoder {
    static func encode(_ events: [DecisionEvent], into buffer: inout ByteBuffer) {
        buffer.writeStaticString("[")
        for (index, event) in events.enumerated() {
            if index > 0 { buffer.writeStaticString(",") }
            buffer.writeStaticString("{\"service\":")
            writeString(event.service, into: &buffer)
            buffer.writeStaticString(",\"operation\":")
            writeString(event.operation, into: &buffer)
            buffer.writeStaticString(",\"outcome\":\"")
            buffer.writeString(event.outcome.rawValue)
            buffer.writeStaticString("\"")
            if let key = event.key {
                buffer.writeStaticString(",\"key\":")
                writeString(key, into: &buffer)
            }
            if let payload = event.payload {
                buffer.writeStaticString(",\"payload\":")
                writeString(payload, into: &buffer)
            }
            if let client = event.client {
                buffer.writeStaticString(",\"client\":")
                writeString(client, into: &buffer)
            }
            if let ageMs = event.ageMs {
                buffer.writeStaticString(",\"age_ms\":")
                buffer.writeString(String(ageMs))
            }
            if let ts = event.timestamp {
                // Milliseconds are what the service keeps; three decimals say exactly that.
                let ms = Int64((ts * 1000).rounded())
                let fraction = ms % 1000
                buffer.writeStaticString(",\"ts\":")
                buffer.writeString(String(ms / 1000))
                buffer.writeStaticString(".")
                if fraction < 100 { buffer.writeStaticString(fraction < 10 ? "00" : "0") }
                buffer.writeString(String(fraction))
            }
            if let trace = event.trace {
                buffer.writeStaticString(",\"trace_id\":\"")
                buffer.writeString(trace.traceID)
                buffer.writeStaticString("\",\"span_id\":\"")
                buffer.writeString(trace.spanID)
                buffer.writeStaticString("\"")
            }
            buffer.writeStaticString("}")
        }
        buffer.writeStaticString("]")
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped; other UTF-8 as is.
    static func writeString(_ string: String, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("\"")
        var plainStart = string.utf8.startIndex
        let utf8 = string.utf8
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 {
                buffer.writeString(String(string[plainStart..<index]))
                switch byte {
                case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
                case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
                case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
                default:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    buffer.writeStaticString("\\u00")
                    buffer.writeBytes([hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
                }
                plainStart = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        buffer.writeString(String(string[plainStart..<utf8.endIndex]))
        buffer.writeStaticString("\"")
    }
}
