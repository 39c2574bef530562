#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Decodes a JSON `ExportLogsServiceRequest` (OTLP/HTTP JSON encoding) into decisions.
///
/// The OTLP JSON quirks (OTLP specification, "JSON Protobuf Encoding"): keys in lowerCamelCase (the proto field
/// names in snake_case are accepted too, as every proto3 JSON parser must), 64-bit integers as decimal strings or
/// numbers, enums as integers, unknown fields ignored, and `traceId` / `spanId` as hex — or, as several exporters
/// send them, base64 of 16 / 8 bytes. The two are told apart by length (32 / 16 characters are hex; base64 of 16 /
/// 8 bytes is 22-24 / 11-12 characters), so a hex id is never read as base64.
///
/// Only the fields of the convention are decoded; record bodies and nested attribute values are skipped.
public enum OTLPJSONLogsDecoder {
    public static func decode(_ body: [UInt8], into convention: inout DecisionConvention) throws(OTLPDecodingError) {
        let request: Request
        do {
            request = try JSONDecoder().decode(Request.self, from: Data(body))
        } catch let error as DecodingError {
            throw .malformed("invalid OTLP JSON: \(describe(error))")
        } catch {
            throw .malformed("invalid OTLP JSON: \(error)")
        }
        do throws(DecisionConvention.TooManyDecisions) {
            for resourceLogs in request.resourceLogs ?? [] {
                let service = resourceLogs.resource?.attributes?.last(where: { $0.key == "service.name" }).flatMap {
                    if case .string(let name) = $0.value { name } else { nil }
                }
                for scopeLogs in resourceLogs.scopeLogs ?? [] {
                    for var record in scopeLogs.logRecords ?? [] {
                        record.record.resourceService = service
                        try convention.add(record.record)
                    }
                }
            }
        } catch {
            throw .tooManyDecisions(limit: error.limit)
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        let (context, what): (DecodingError.Context, String) =
            switch error {
            case .typeMismatch(_, let context): (context, "wrong type")
            case .valueNotFound(_, let context): (context, "missing value")
            case .keyNotFound(let key, let context): (context, "missing \(key.stringValue)")
            case .dataCorrupted(let context): (context, "malformed")
            @unknown default: (DecodingError.Context(codingPath: [], debugDescription: ""), "malformed")
            }
        let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return "\(path.isEmpty ? "body" : String(path.dropFirst())): \(what) (\(context.debugDescription))"
    }

    // MARK: The messages

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    struct Request: Decodable {
        var resourceLogs: [ResourceLogs]?
        init(from decoder: any Decoder) throws {
            resourceLogs = try decoder.container(keyedBy: Key.self).field([ResourceLogs].self, "resourceLogs", "resource_logs")
        }
    }

    struct ResourceLogs: Decodable {
        var resource: Resource?
        var scopeLogs: [ScopeLogs]?
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            resource = try container.field(Resource.self, "resource", "resource")
            scopeLogs = try container.field([ScopeLogs].self, "scopeLogs", "scope_logs")
        }
    }

    struct Resource: Decodable {
        var attributes: [KeyValue]?
        init(from decoder: any Decoder) throws {
            attributes = try decoder.container(keyedBy: Key.self).field([KeyValue].self, "attributes", "attributes")
        }
    }

    struct ScopeLogs: Decodable {
        var logRecords: [LogRecord]?
        init(from decoder: any Decoder) throws {
            logRecords = try decoder.container(keyedBy: Key.self).field([LogRecord].self, "logRecords", "log_records")
        }
    }

    struct LogRecord: Decodable {
        var record = OTLPLogRecord()
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            record.timeUnixNano = try container.field(JSONInt64.self, "timeUnixNano", "time_unix_nano")?.unsigned ?? 0
            record.observedTimeUnixNano =
                try container.field(JSONInt64.self, "observedTimeUnixNano", "observed_time_unix_nano")?.unsigned ?? 0
            let name = try container.field(String.self, "eventName", "event_name")
            var legacyName: String?
            for attribute in try container.field([KeyValue].self, "attributes", "attributes") ?? [] {
                if let decision = DecisionAttribute(key: attribute.key.utf8) {
                    record.decision[decision] = attribute.value
                } else if attribute.key == "event.name", case .string(let text) = attribute.value {
                    legacyName = text
                }
            }
            record.eventName = name.flatMap { $0.isEmpty ? nil : $0 } ?? legacyName
            record.traceID = Self.id(try container.field(String.self, "traceId", "trace_id"), bytes: 16)
            record.spanID = Self.id(try container.field(String.self, "spanId", "span_id"), bytes: 8)
        }

        /// A hex id of `bytes` bytes, or base64 of `bytes` bytes; anything else comes back with a length that
        /// the convention rejects.
        static func id(_ text: String?, bytes: Int) -> [UInt8] {
            guard let text, !text.isEmpty else { return [] }
            if text.utf8.count == bytes * 2 { return TraceContext.bytes(hex: text.utf8, count: bytes) ?? [0] }
            let standard = String(text.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
            if let decoded = Base64.decode(standard), decoded.count == bytes { return decoded }
            return [0]
        }
    }

    struct KeyValue: Decodable {
        var key: String
        var value: OTLPAttributeValue
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            key = try container.field(String.self, "key", "key") ?? ""
            value = try container.field(AnyValue.self, "value", "value")?.value ?? .other
        }
    }

    /// An AnyValue's scalar; `arrayValue`, `kvlistValue` and `bytesValue` are `.other` and not decoded further.
    struct AnyValue: Decodable {
        var value = OTLPAttributeValue.other
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            if let text = try container.field(String.self, "stringValue", "string_value") {
                value = .string(text)
            } else if let flag = try container.field(Bool.self, "boolValue", "bool_value") {
                value = .bool(flag)
            } else if let number = try container.field(JSONInt64.self, "intValue", "int_value") {
                value = .int(number.value)
            } else if let number = try container.field(JSONDouble.self, "doubleValue", "double_value") {
                value = .double(number.value)
            }
        }
    }

    /// An int64 / uint64 / fixed64 as a JSON number or a decimal string.
    struct JSONInt64: Decodable {
        var value: Int64
        var unsigned: UInt64
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Int64.self) {
                value = number
                unsigned = UInt64(bitPattern: number)
            } else if let number = try? container.decode(UInt64.self) {
                value = Int64(bitPattern: number)
                unsigned = number
            } else {
                let text = try container.decode(String.self)
                if let number = Int64(text) {
                    (value, unsigned) = (number, UInt64(bitPattern: number))
                } else if let number = UInt64(text) {
                    (value, unsigned) = (Int64(bitPattern: number), number)
                } else {
                    throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected a 64-bit integer")
                }
            }
        }
    }

    /// A double as a JSON number or one of the strings proto3 JSON allows ("NaN", "Infinity", a decimal).
    struct JSONDouble: Decodable {
        var value: Double
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Double.self) {
                value = number
            } else if let number = Double(try container.decode(String.self)) {
                value = number
            } else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected a number")
            }
        }
    }
}

extension KeyedDecodingContainer where Key == OTLPJSONLogsDecoder.Key {
    /// A field under its lowerCamelCase name or its proto name; null is absent.
    func field<T: Decodable>(_ type: T.Type, _ camel: String, _ snake: String) throws -> T? {
        if let value = try decodeIfPresent(type, forKey: .init(camel)) { return value }
        return camel == snake ? nil : try decodeIfPresent(type, forKey: .init(snake))
    }
}
