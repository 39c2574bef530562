/// The bodies an OTLP/HTTP receiver answers with, in the request's encoding: `ExportLogsServiceResponse` (with its
/// `partial_success`) on 200, `google.rpc.Status` on every error status.
public enum OTLPResponse {
    public enum Encoding: Sendable {
        case protobuf, json

        public var contentType: String { self == .protobuf ? "application/x-protobuf" : "application/json" }
    }

    /// `ExportLogsServiceResponse`; `partial_success` only when records were rejected.
    public static func exportLogs(rejected: Int, errorMessage: String?, encoding: Encoding) -> [UInt8] {
        guard rejected > 0 || errorMessage != nil else { return encoding == .json ? Array("{}".utf8) : [] }
        switch encoding {
        case .protobuf:
            var partial: [UInt8] = []
            if rejected > 0 { appendVarintField(1, UInt64(rejected), to: &partial) }
            if let errorMessage { appendBytesField(2, Array(errorMessage.utf8), to: &partial) }
            var out: [UInt8] = []
            appendBytesField(1, partial, to: &out)
            return out
        case .json:
            var members: [String] = []
            // int64 is a decimal string in proto3 JSON.
            if rejected > 0 { members.append("\"rejectedLogRecords\":\"\(rejected)\"") }
            if let errorMessage { members.append("\"errorMessage\":\(jsonString(errorMessage))") }
            return Array("{\"partialSuccess\":{\(members.joined(separator: ","))}}".utf8)
        }
    }

    /// `google.rpc.Status` with the gRPC code that matches `httpStatus`.
    public static func status(httpStatus: Int, message: String, encoding: Encoding) -> [UInt8] {
        let code = grpcCode(httpStatus: httpStatus)
        switch encoding {
        case .protobuf:
            var out: [UInt8] = []
            appendVarintField(1, UInt64(code), to: &out)
            appendBytesField(2, Array(message.utf8), to: &out)
            return out
        case .json:
            return Array("{\"code\":\(code),\"message\":\(jsonString(message))}".utf8)
        }
    }

    /// The gRPC status code for an HTTP status (the inverse of the gRPC-to-HTTP mapping OTLP clients use).
    public static func grpcCode(httpStatus: Int) -> Int {
        switch httpStatus {
        case 400, 413, 415: 3  // INVALID_ARGUMENT
        case 401: 16  // UNAUTHENTICATED
        case 403: 7  // PERMISSION_DENIED
        case 404: 5  // NOT_FOUND
        case 408, 504: 4  // DEADLINE_EXCEEDED
        case 409: 10  // ABORTED
        case 429: 8  // RESOURCE_EXHAUSTED
        case 503: 14  // UNAVAILABLE
        default: httpStatus >= 500 ? 13 : 2  // INTERNAL, UNKNOWN
        }
    }

    static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    static func appendVarintField(_ field: UInt64, _ value: UInt64, to out: inout [UInt8]) {
        appendVarint(field << 3, to: &out)
        appendVarint(value, to: &out)
    }

    static func appendBytesField(_ field: UInt64, _ bytes: [UInt8], to out: inout [UInt8]) {
        appendVarint(field << 3 | 2, to: &out)
        appendVarint(UInt64(bytes.count), to: &out)
        out.append(contentsOf: bytes)
    }

    /// A JSON string literal (RFC 8259 escaping).
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
