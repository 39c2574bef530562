// The OTLP logs decoders (protobuf and JSON) under the fuzzer, driven by checkDecoder in DecoderFuzzTarget.swift.

/// Decodes `bytes` as a protobuf and as a JSON ExportLogsServiceRequest and traps when an invariant breaks: every
/// record is counted once (accepted, ignored or rejected), accepted events satisfy the event rules, a rejection has
/// a message, an error has one.
func checkOTLPDecoders(_ bytes: UnsafeBufferPointer<UInt8>) {
    let nowMs: Int64 = 1_800_000_000_000
    for protobuf in [true, false] {
        var convention = DecisionConvention(nowMs: nowMs, maxDecisions: 1_000)
        do {
            if protobuf {
                try OTLPProtobufLogsDecoder.decode(bytes, into: &convention)
            } else {
                try OTLPJSONLogsDecoder.decode(Array(bytes), into: &convention)
            }
        } catch {
            switch error {
            case .malformed(let message): precondition(!message.isEmpty, "empty error message")
            case .tooManyDecisions(let limit): precondition(limit == 1_000)
            }
            continue
        }
        let batch = convention.batch
        precondition(batch.events.count + batch.ignored + batch.rejected == batch.records, "a record was lost or counted twice")
        precondition((batch.rejected > 0) == (batch.firstProblem != nil), "rejections without a message")
        for event in batch.events {
            precondition(
                EventRules.isValidName(event.service) && EventRules.isValidName(event.operation), "invalid name accepted")
            precondition(
                event.timeMs >= nowMs - EventRules.maxPastMs && event.timeMs <= nowMs + EventRules.maxFutureMs,
                "time out of range")
            precondition((event.ageMs ?? 0) >= 0, "negative age_ms")
            if let key = event.key { precondition(EventRules.keyLengthRange.contains(key.utf8.count), "key length") }
            if let trace = event.trace {
                precondition(trace.traceID.count == 16 && (trace.spanID?.count ?? 8) == 8, "trace id length")
            }
        }
    }
}
