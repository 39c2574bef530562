import CHMACSHA256

/// HMAC-SHA-256 with the per-database secret, truncated to 128 bits. Keys are hashed together with their series, so
/// the same key under two operations is two keys.
///
/// On the ingest path (one or two hashes per keyed event): the SHA-256 states after the padded secret are prepared
/// once, the message is assembled in one stack buffer, and a hash is two struct copies and two SHA-256 compressions
/// with no allocation (``CHMACSHA256``; a fraction of swift-crypto's `HMAC<SHA256>` cost: docs/performance.md).
public struct KeyHasher: Sendable {
    /// Owns the prepared states; only kept, never read on the hot path.
    private let key: PreparedKey
    /// The prepared states, read without touching `key`: reading them through the object made every hash retain
    /// and release it, an atomic operation on a line both request threads write (~20 samples per million events
    /// with a key on each, docs/performance.md). Safe to share: the states are written once, before any hash, and
    /// live as long as `key`, which every copy of this hasher holds.
    nonisolated(unsafe) private let state: UnsafeMutablePointer<dv_hmac_sha256_key>

    public init(secret: [UInt8]) {
        key = PreparedKey(secret: secret)
        state = key.state
    }

    /// The hash of an idempotency key of a series.
    public func hashKey(_ key: String, series: SeriesKey) -> KeyHash { States(state: state).hashKey(key, series: series) }

    /// The hash of a payload fingerprint of a series.
    public func hashPayload(_ payload: String, series: SeriesKey) -> KeyHash {
        States(state: state).hashPayload(payload, series: series)
    }

    /// Runs `body` with a view of this hasher that holds only the prepared states, while this hasher keeps them
    /// alive. A loop over a batch's events hashes through the view: each copy of the hasher itself (an optional
    /// bound per event, a closure's capture) retained and released the object that owns the states, an atomic
    /// operation on a line both request threads write (docs/performance.md).
    public func withStates<R>(_ body: (States) throws -> R) rethrows -> R {
        try withExtendedLifetime(key) { try body(States(state: state)) }
    }

    /// The prepared states without their owner (see ``withStates(_:)``); valid only inside that call, or while a
    /// hasher holds them. Hashing is defined here once, for the hasher and for the view.
    public struct States {
        fileprivate let state: UnsafeMutablePointer<dv_hmac_sha256_key>

        /// The hash of an idempotency key of a series.
        public func hashKey(_ key: String, series: SeriesKey) -> KeyHash { KeyHasher.hash(state, 0x4B, key, series) }

        /// The hash of a payload fingerprint of a series.
        public func hashPayload(_ payload: String, series: SeriesKey) -> KeyHash {
            KeyHasher.hash(state, 0x50, payload, series)
        }
    }

    /// HMAC(domain ‖ service ‖ 0 ‖ operation ‖ 0 ‖ value), first 16 bytes, with the prepared states at `state`.
    private static func hash(
        _ state: UnsafeMutablePointer<dv_hmac_sha256_key>, _ domain: UInt8, _ value: String, _ series: SeriesKey
    ) -> KeyHash {
        // The closures below capture the plain pointer, not the object that owns it (no retain per hash).
        var service = series.service
        var operation = series.operation
        var value = value
        return service.withUTF8 { service in
            operation.withUTF8 { operation in
                value.withUTF8 { value in
                    let count = 3 + service.count + operation.count + value.count
                    // The message, then room for the digest.
                    return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: count + 32) { buffer in
                        buffer[0] = domain
                        var offset = 1
                        func put(_ part: UnsafeBufferPointer<UInt8>) {
                            if let start = part.baseAddress {
                                (buffer.baseAddress! + offset).update(from: start, count: part.count)
                            }
                            offset += part.count
                        }
                        put(service)
                        buffer[offset] = 0
                        offset += 1
                        put(operation)
                        buffer[offset] = 0
                        offset += 1
                        put(value)
                        let digest = buffer.baseAddress! + count
                        dv_hmac_sha256(state, buffer.baseAddress, count, digest)
                        return KeyHash(digestBytes: UnsafeRawBufferPointer(start: digest, count: 16))
                    }
                }
            }
        }
    }

    /// The prepared HMAC states, allocated once and only read afterwards.
    private final class PreparedKey: @unchecked Sendable {
        let state: UnsafeMutablePointer<dv_hmac_sha256_key>

        init(secret: [UInt8]) {
            state = .allocate(capacity: 1)
            secret.withUnsafeBufferPointer { dv_hmac_sha256_init(state, $0.baseAddress, $0.count) }
        }

        deinit {
            UnsafeMutableRawPointer(state).initializeMemory(
                as: UInt8.self, repeating: 0, count: MemoryLayout<dv_hmac_sha256_key>.size)
            state.deallocate()
        }
    }
}
