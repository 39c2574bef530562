// The ingest decoder under a fuzzer. Compiled together with the decoder's sources by .ci/fuzz-decoder.sh,
// either with libFuzzer (-sanitize=fuzzer) or, where that does not link, with MutationLoop.swift as the driver.

/// Decodes `bytes` as JSON and as NDJSON and traps when an invariant breaks: an error must point inside the body,
/// accepted events must satisfy the event rules, and decoding with key hashing must accept and reject alike, with the
/// hashes of the texts decoded without it.
func checkDecoder(_ bytes: UnsafeBufferPointer<UInt8>) {
    checkOTLPDecoders(bytes)
    let nowMs: Int64 = 1_800_000_000_000
    let decoder = EventDecoder(maxEvents: 1_000)
    for format in [BodyFormat.json, .ndjson] {
        let hashed = Result { () throws(EventDecodingError) in
            try decoder.decode(bytes, format: format, nowMs: nowMs, hashing: StandInHashing())
        }
        do {
            let events = try decoder.decode(bytes, format: format, nowMs: nowMs)
            guard case .success(let hashedEvents) = hashed, hashedEvents.count == events.count else {
                preconditionFailure("decoding with key hashing rejected what decoding without accepted")
            }
            for (event, hashedEvent) in zip(events, hashedEvents) {
                let expected = event.key.map { key in
                    HashedKey(
                        key: StandInHashing.hash(key, event.series.names),
                        payload: event.payload.map { StandInHashing.hash($0, event.series.names, domain: 0x50) })
                }
                precondition(hashedEvent.hashedKey == expected, "hashed in place differently")
                precondition(hashedEvent.key == nil && hashedEvent.payload == (event.key == nil ? event.payload : nil))
            }
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
            guard case .failure(let hashedError) = hashed, hashedError == error else {
                preconditionFailure("decoding with key hashing did not reject alike")
            }
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

/// A stand-in for the keyed hash (the fuzzer builds the decoder without cryptography): FNV-1a over the domain, the
/// series and the value, the same for bytes in place and for texts.
struct StandInHashing: KeyBytesHashing {
    static func hash(_ value: UnsafeBufferPointer<UInt8>, _ series: SeriesNames, domain: UInt8 = 0x4B) -> KeyHash {
        var state: UInt64 = 0xCBF2_9CE4_8422_2325
        func add<S: Sequence<UInt8>>(_ bytes: S) { for byte in bytes { state = (state ^ UInt64(byte)) &* 0x100_0000_01B3 } }
        add([domain])
        add(series.service.utf8)
        add([0])
        add(series.operation.utf8)
        add([0])
        add(value)
        return KeyHash(high: state, low: UInt64(value.count))
    }

    static func hash(_ value: String, _ series: SeriesNames, domain: UInt8 = 0x4B) -> KeyHash {
        Array(value.utf8).withUnsafeBufferPointer { hash($0, series, domain: domain) }
    }

    func hashKey(bytes key: UnsafeBufferPointer<UInt8>, series: SeriesNames) -> KeyHash { Self.hash(key, series) }

    func hashKeyAndPayload(
        bytes key: UnsafeBufferPointer<UInt8>, _ payload: UnsafeBufferPointer<UInt8>, series: SeriesNames
    ) -> (key: KeyHash, payload: KeyHash) {
        (Self.hash(key, series), Self.hash(payload, series, domain: 0x50))
    }

    func hashKeys(
        bytes first: UnsafeBufferPointer<UInt8>, _ firstSeries: SeriesNames, _ second: UnsafeBufferPointer<UInt8>,
        _ secondSeries: SeriesNames
    ) -> (KeyHash, KeyHash) {
        (Self.hash(first, firstSeries), Self.hash(second, secondSeries))
    }
}
