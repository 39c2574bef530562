// The ingest decoder under a fuzzer. Compiled together with the decoder's sources by .ci/fuzz-decoder.sh,
// either with libFuzzer (-sanitize=fuzzer) or, where that does not link, with MutationLoop.swift as the driver.

/// Decodes `bytes` as JSON and as NDJSON and traps when an invariant breaks: an error must point inside the body,
/// accepted events must satisfy the event rules.
func checkDecoder(_ bytes: UnsafeBufferPointer<UInt8>) {
    checkOTLPDecoders(bytes)
    let nowMs: Int64 = 1_800_000_000_000
    let decoder = EventDecoder(maxEvents: 1_000)
    for format in [BodyFormat.json, .ndjson] {
        do {
            let events = try decoder.decode(bytes, format: format, nowMs: nowMs)
            for event in events {
                precondition(
                    EventRules.isValidName(event.service) && EventRules.isValidName(event.operation), "invalid name accepted")
                precondition(
                    event.timeMs >= nowMs - EventRules.maxPastMs && event.timeMs <= nowMs + EventRules.maxFutureMs,
                    "ts out of range")
                precondition((event.ageMs ?? 0) >= 0, "negative age_ms")
                if let key = event.key { precondition(EventRules.keyLengthRange.contains(key.utf8.count), "key length") }
            }
        } catch {
            switch error {
            case .invalidJSON(let message, let line, let column):
                precondition(!message.isEmpty && line >= 1 && column >= 1, "bad error position")
            case .invalidEvent(let message, let index, _):
                precondition(!message.isEmpty && index >= 0, "bad event error")
            case .tooManyEvents(let limit):
                precondition(limit == 1_000)
            }
        }
    }
}
