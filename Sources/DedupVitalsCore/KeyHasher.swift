import CHMACSHA256

/// HMAC-SHA-256 with the per-database secret, truncated to 128 bits. Keys are hashed together with their series, so
/// the same key under two operations is two keys.
///
/// On the ingest path (one or two hashes per keyed event): the SHA-256 states after the padded secret are prepared
/// once, the message is assembled in one stack buffer, and a hash is two SHA-256 compressions with no allocation
/// (``CHMACSHA256``; a fraction of swift-crypto's `HMAC<SHA256>` cost: docs/performance.md). Two hashes computed
/// together (a key and its payload, or two keys: ``States/hashKeys(_:_:_:_:)``) interleave their compressions where
/// the CPU has the SHA extensions.
public struct KeyHasher: Sendable, KeyBytesHashing {
    /// The hashes of a key and of its payload.
    public typealias KeyAndPayload = (key: KeyHash, payload: KeyHash)

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

    /// ``hashKey(_:series:)`` and ``hashPayload(_:series:)`` of one event, computed together.
    public func hashKeyAndPayload(_ key: String, _ payload: String, series: SeriesKey) -> KeyAndPayload {
        States(state: state).hashKeyAndPayload(key, payload, series: series)
    }

    public func hashKey(bytes key: UnsafeBufferPointer<UInt8>, series: SeriesNames) -> KeyHash {
        States(state: state).hashKey(bytes: key, series: series)
    }

    public func hashKeyAndPayload(
        bytes key: UnsafeBufferPointer<UInt8>, _ payload: UnsafeBufferPointer<UInt8>, series: SeriesNames
    ) -> KeyAndPayload {
        States(state: state).hashKeyAndPayload(bytes: key, payload, series: series)
    }

    public func hashKeys(
        bytes first: UnsafeBufferPointer<UInt8>, _ firstSeries: SeriesNames, _ second: UnsafeBufferPointer<UInt8>,
        _ secondSeries: SeriesNames
    ) -> (KeyHash, KeyHash) {
        States(state: state).hashKeys(bytes: first, firstSeries, second, secondSeries)
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
    public struct States: KeyBytesHashing {
        fileprivate let state: UnsafeMutablePointer<dv_hmac_sha256_key>

        /// The hash of an idempotency key of a series.
        public func hashKey(_ key: String, series: SeriesKey) -> KeyHash {
            KeyHasher.hash(state, 0x4B, key, series.names)
        }

        /// The hash of a payload fingerprint of a series.
        public func hashPayload(_ payload: String, series: SeriesKey) -> KeyHash {
            KeyHasher.hash(state, 0x50, payload, series.names)
        }

        /// ``hashKey(_:series:)`` and ``hashPayload(_:series:)`` of one event, computed together.
        public func hashKeyAndPayload(_ key: String, _ payload: String, series: SeriesKey) -> KeyAndPayload {
            let hashes = KeyHasher.hashPair(state, 0x4B, key, series.names, 0x50, payload, series.names)
            return (hashes.0, hashes.1)
        }

        /// ``hashKey(_:series:)`` of two keys, computed together.
        public func hashKeys(
            _ first: String, _ firstSeries: SeriesKey, _ second: String, _ secondSeries: SeriesKey
        ) -> (
            KeyHash, KeyHash
        ) {
            KeyHasher.hashPair(state, 0x4B, first, firstSeries.names, 0x4B, second, secondSeries.names)
        }

        // The same three on a key's and a payload's UTF-8 bytes in place (the decoder's: it hashes them where they
        // lie in the body, without making strings of them).

        /// ``hashKey(_:series:)`` of a key's UTF-8 bytes.
        public func hashKey(bytes key: UnsafeBufferPointer<UInt8>, series: SeriesNames) -> KeyHash {
            KeyHasher.hash(state, 0x4B, key, series)
        }

        /// ``hashKeyAndPayload(_:_:series:)`` of a key's and a payload's UTF-8 bytes.
        public func hashKeyAndPayload(
            bytes key: UnsafeBufferPointer<UInt8>, _ payload: UnsafeBufferPointer<UInt8>, series: SeriesNames
        ) -> KeyAndPayload {
            let hashes = KeyHasher.hashPair(state, 0x4B, key, series, 0x50, payload, series)
            return (hashes.0, hashes.1)
        }

        /// ``hashKeys(_:_:_:_:)`` of two keys' UTF-8 bytes.
        public func hashKeys(
            bytes first: UnsafeBufferPointer<UInt8>, _ firstSeries: SeriesNames, _ second: UnsafeBufferPointer<UInt8>,
            _ secondSeries: SeriesNames
        ) -> (KeyHash, KeyHash) {
            KeyHasher.hashPair(state, 0x4B, first, firstSeries, 0x4B, second, secondSeries)
        }
    }

    /// The hash below of a string's UTF-8.
    private static func hash(
        _ state: UnsafeMutablePointer<dv_hmac_sha256_key>, _ domain: UInt8, _ value: String, _ series: SeriesNames
    ) -> KeyHash {
        var value = value
        return value.withUTF8 { hash(state, domain, $0, series) }
    }

    /// HMAC(domain ‖ service ‖ 0 ‖ operation ‖ 0 ‖ value), first 16 bytes, with the prepared states at `state`.
    private static func hash(
        _ state: UnsafeMutablePointer<dv_hmac_sha256_key>, _ domain: UInt8, _ value: UnsafeBufferPointer<UInt8>,
        _ series: SeriesNames
    ) -> KeyHash {
        // The closures below capture the plain pointer, not the object that owns it (no retain per hash).
        var service = series.service
        var operation = series.operation
        return service.withUTF8 { service in
            operation.withUTF8 { operation in
                let count = 3 + service.count + operation.count + value.count
                // The message, then room for the digest.
                return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: count + 32) { buffer in
                    let message = buffer.baseAddress!
                    assemble(message, domain, service, operation, value)
                    dv_hmac_sha256(state, message, count, message + count)
                    return KeyHash(digestBytes: UnsafeRawBufferPointer(start: message + count, count: 16))
                }
            }
        }
    }

    /// Two hashes computed together: with the SHA extensions their compressions are interleaved, which costs little
    /// more than one hash (docs/performance.md). Plain parameters, not tuples: the closures below handled tuples of
    /// strings through generic value witnesses.
    @inline(__always)
    fileprivate static func hashPair(
        _ state: UnsafeMutablePointer<dv_hmac_sha256_key>, _ domainA: UInt8, _ valueA: String, _ seriesA: SeriesNames,
        _ domainB: UInt8, _ valueB: String, _ seriesB: SeriesNames
    ) -> (KeyHash, KeyHash) {
        var (valueA, valueB) = (valueA, valueB)
        return valueA.withUTF8 { valueA in
            valueB.withUTF8 { valueB in hashPair(state, domainA, valueA, seriesA, domainB, valueB, seriesB) }
        }
    }

    /// The pair above, of two values' UTF-8 bytes.
    @inline(__always)
    fileprivate static func hashPair(
        _ state: UnsafeMutablePointer<dv_hmac_sha256_key>, _ domainA: UInt8, _ valueA: UnsafeBufferPointer<UInt8>,
        _ seriesA: SeriesNames, _ domainB: UInt8, _ valueB: UnsafeBufferPointer<UInt8>, _ seriesB: SeriesNames
    ) -> (KeyHash, KeyHash) {
        var (serviceA, operationA) = (seriesA.service, seriesA.operation)
        var (serviceB, operationB) = (seriesB.service, seriesB.operation)
        return serviceA.withUTF8 { serviceA in
            operationA.withUTF8 { operationA in
                serviceB.withUTF8 { serviceB in
                    operationB.withUTF8 { operationB in
                        let countA = 3 + serviceA.count + operationA.count + valueA.count
                        let countB = 3 + serviceB.count + operationB.count + valueB.count
                        // The two messages, then room for the two digests.
                        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: countA + countB + 64) {
                            let messageA = $0.baseAddress!
                            let messageB = messageA + countA
                            let digests = messageB + countB
                            assemble(messageA, domainA, serviceA, operationA, valueA)
                            assemble(messageB, domainB, serviceB, operationB, valueB)
                            dv_hmac_sha256_pair(state, messageA, countA, digests, messageB, countB, digests + 32)
                            return (
                                KeyHash(digestBytes: UnsafeRawBufferPointer(start: digests, count: 16)),
                                KeyHash(digestBytes: UnsafeRawBufferPointer(start: digests + 32, count: 16))
                            )
                        }
                    }
                }
            }
        }
    }

    /// Writes domain ‖ service ‖ 0 ‖ operation ‖ 0 ‖ value at `message`.
    private static func assemble(
        _ message: UnsafeMutablePointer<UInt8>, _ domain: UInt8, _ service: UnsafeBufferPointer<UInt8>,
        _ operation: UnsafeBufferPointer<UInt8>, _ value: UnsafeBufferPointer<UInt8>
    ) {
        message[0] = domain
        var offset = 1
        func put(_ part: UnsafeBufferPointer<UInt8>) {
            if let start = part.baseAddress { (message + offset).update(from: start, count: part.count) }
            offset += part.count
        }
        put(service)
        message[offset] = 0
        offset += 1
        put(operation)
        message[offset] = 0
        offset += 1
        put(value)
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
