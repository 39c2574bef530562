import DedupVitalsCore

/// Writes events as the JSON body of `POST /v1/events` (docs/reference/events.md), for clients such as `simulate`.
public enum EventWireFormat {
    /// A JSON array of event objects; `ts` is written as an RFC 3339 timestamp with milliseconds.
    public static func jsonArray(_ events: some Sequence<Event>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(events.underestimatedCount * 200)
        out.append(UInt8(ascii: "["))
        for (index, event) in events.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += Array("{\"service\":".utf8)
            JSONOutput.appendString(event.service, to: &out)
            out += Array(",\"operation\":".utf8)
            JSONOutput.appendString(event.operation, to: &out)
            out += Array(",\"outcome\":\"\(event.outcome.name)\"".utf8)
            for (name, value) in [("key", event.key), ("payload", event.payload), ("client", event.client)] {
                guard let value else { continue }
                out += Array(",\"\(name)\":".utf8)
                JSONOutput.appendString(value, to: &out)
            }
            out += Array(",\"ts\":\"\(RFC3339.format(milliseconds: event.timeMs))\"".utf8)
            if let age = event.ageMs { out += Array(",\"age_ms\":\(age)".utf8) }
            if let trace = event.trace {
                out += Array(",\"trace_id\":\"\(trace.traceIDHex)\"".utf8)
                if let span = trace.spanIDHex { out += Array(",\"span_id\":\"\(span)\"".utf8) }
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        return out
    }
}
