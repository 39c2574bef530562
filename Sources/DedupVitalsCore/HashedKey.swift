/// An event's key hash and its payload's (``KeyHasher``), computed by the decoder when it is given the hasher
/// (``EventDecoder``): the event then keeps neither text. Hashing the keys where they
/// lie in the request body spares a string per keyed event (a key longer than 15 bytes is a heap allocation, and every
/// copy of the event retains it: docs/performance.md).
public struct HashedKey: Sendable, Equatable {
    public var key: KeyHash
    /// The payload's hash; nil when the event had no payload.
    public var payload: KeyHash?

    public init(key: KeyHash, payload: KeyHash?) {
        self.key = key
        self.payload = payload
    }
}
