/// Just enough protobuf to write an OTLP `ExportLogsServiceRequest` of decision records (docs/otlp.md), so that the
/// generator can send `/v1/logs` the same events it sends `/v1/events` as JSON. Field numbers are those of
/// opentelemetry-proto's logs/v1 and common/v1 messages.
struct OTLPLogsEncoding {
    private(set) var bytes: [UInt8] = []

    /// One request: a resource with `service.name = service`, one scope, and a decision record per event
    /// (`event_name` `dedup_vitals.decision`, attributes `dedup_vitals.operation`, `.outcome` and, when given, `.key`,
    /// `.client` and `.age_ms`).
    static func request(service: String, events: [PlannedEvent]) -> [UInt8] {
        var scope = OTLPLogsEncoding()
        scope.message(1) { $0.string(1, "dedup-vitals-load") }  // InstrumentationScope
        for event in events {
            scope.message(2) { record in  // LogRecord
                record.message(6) { $0.attribute("dedup_vitals.operation", event.operation) }
                record.message(6) { $0.attribute("dedup_vitals.outcome", event.outcome) }
                if let key = event.key { record.message(6) { $0.attribute("dedup_vitals.key", key) } }
                if let client = event.client { record.message(6) { $0.attribute("dedup_vitals.client", client) } }
                if let ageMs = event.ageMs {
                    record.message(6) { attribute in
                        attribute.string(1, "dedup_vitals.age_ms")
                        attribute.message(2) { $0.varintField(3, UInt64(ageMs)) }  // AnyValue.int_value
                    }
                }
                record.string(12, "dedup_vitals.decision")
            }
        }
        var resourceLogs = OTLPLogsEncoding()
        resourceLogs.message(1) { resource in resource.message(1) { $0.attribute("service.name", service) } }
        resourceLogs.bytes(2, scope.bytes)
        var request = OTLPLogsEncoding()
        request.bytes(1, resourceLogs.bytes)
        return request.bytes
    }

    /// A `KeyValue` with a string `AnyValue`.
    mutating func attribute(_ key: String, _ value: String) {
        string(1, key)
        message(2) { $0.string(1, value) }
    }

    mutating func message(_ field: UInt64, _ build: (inout OTLPLogsEncoding) -> Void) {
        var inner = OTLPLogsEncoding()
        build(&inner)
        bytes(field, inner.bytes)
    }

    mutating func string(_ field: UInt64, _ text: String) { bytes(field, Array(text.utf8)) }

    mutating func bytes(_ field: UInt64, _ value: [UInt8]) {
        varint(field << 3 | 2)
        varint(UInt64(value.count))
        bytes += value
    }

    mutating func varintField(_ field: UInt64, _ value: UInt64) {
        varint(field << 3)
        varint(value)
    }

    private mutating func varint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }
}
