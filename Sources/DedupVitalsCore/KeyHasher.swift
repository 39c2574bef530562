import Crypto

/// HMAC-SHA-256 with the per-database secret, truncated to 128 bits. Keys are hashed together with their series, so
/// the same key under two operations is two keys.
///
/// On the ingest path (two hashes per keyed event): the HMAC state after the secret is prepared once and copied per
/// call, and the message is assembled in one stack buffer and hashed in one update, so a hash costs the two
/// context copies swift-crypto makes and nothing else.
public struct KeyHasher: Sendable {
    private let prototype: HMAC<SHA256>

    public init(secret: [UInt8]) {
        prototype = HMAC<SHA256>(key: SymmetricKey(data: secret))
    }

    /// The hash of an idempotency key of a series.
    public func hashKey(_ key: String, series: SeriesKey) -> KeyHash { hash(0x4B, key, series) }

    /// The hash of a payload fingerprint of a series.
    public func hashPayload(_ payload: String, series: SeriesKey) -> KeyHash { hash(0x50, payload, series) }

    /// HMAC(domain ‖ service ‖ 0 ‖ operation ‖ 0 ‖ value), first 16 bytes.
    private func hash(_ domain: UInt8, _ value: String, _ series: SeriesKey) -> KeyHash {
        var service = series.service
        var operation = series.operation
        var value = value
        return service.withUTF8 { service in
            operation.withUTF8 { operation in
                value.withUTF8 { value in
                    let count = 3 + service.count + operation.count + value.count
                    return withUnsafeTemporaryAllocation(byteCount: count, alignment: 8) { buffer in
                        buffer[0] = domain
                        var offset = 1
                        func put(_ part: UnsafeBufferPointer<UInt8>) {
                            UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<offset + part.count]).copyMemory(from: UnsafeRawBufferPointer(part))
                            offset += part.count
                        }
                        put(service)
                        buffer[offset] = 0
                        offset += 1
                        put(operation)
                        buffer[offset] = 0
                        offset += 1
                        put(value)
                        var hmac = prototype
                        hmac.update(data: UnsafeRawBufferPointer(buffer))
                        return hmac.finalize().withUnsafeBytes { KeyHash(digestBytes: $0) }
                    }
                }
            }
        }
    }
}
