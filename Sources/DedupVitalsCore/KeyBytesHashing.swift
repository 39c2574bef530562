/// Hashes keys and payloads given as UTF-8 bytes (``KeyHasher``): what the decoder hashes a body's keys with where they
/// lie (``EventDecoder``). A protocol so that the decoder needs no cryptography of its own (its fuzzer builds it
/// alone, with a stand-in hash).
public protocol KeyBytesHashing {
    /// The hash of an idempotency key of a series.
    func hashKey(bytes key: UnsafeBufferPointer<UInt8>, series: SeriesNames) -> KeyHash
    /// The hashes of a key and of its payload, computed together.
    func hashKeyAndPayload(
        bytes key: UnsafeBufferPointer<UInt8>, _ payload: UnsafeBufferPointer<UInt8>, series: SeriesNames
    ) -> (key: KeyHash, payload: KeyHash)
    /// The hashes of two keys, computed together.
    func hashKeys(
        bytes first: UnsafeBufferPointer<UInt8>, _ firstSeries: SeriesNames, _ second: UnsafeBufferPointer<UInt8>,
        _ secondSeries: SeriesNames
    ) -> (KeyHash, KeyHash)
}

/// One step of hashing a batch's keyed events two at a time (``KeyBytesHashing/pairs(count:hasPayload:_:)``).
public enum KeyHashPairStep {
    /// Item `i`'s key with its payload.
    case keyAndPayload(Int)
    /// The keys of items `i` and `j`, neither with a payload.
    case twoKeys(Int, Int)
    /// Item `i`'s key alone: no payload, and no next item without one.
    case key(Int)
}

extension KeyBytesHashing {
    /// The order in which `count` keyed items are hashed two at a time: a key with its payload, a key without one with
    /// the next item when that has none either, a key left over alone. Two hashes computed together cost little more
    /// than one (``KeyHasher``); the decoder and ``BatchDelta`` hash in this order.
    @inline(__always)
    public static func pairs(count: Int, hasPayload: (Int) -> Bool, _ body: (KeyHashPairStep) -> Void) {
        var position = 0
        while position < count {
            if hasPayload(position) {
                body(.keyAndPayload(position))
                position += 1
            } else if position + 1 < count, !hasPayload(position + 1) {
                body(.twoKeys(position, position + 1))
                position += 2
            } else {
                body(.key(position))
                position += 1
            }
        }
    }
}
