import Crypto

/// HMAC-SHA-256 with the per-database secret, truncated to 128 bits. Keys are hashed together with their series, so
/// the same key under two operations is two keys. The HMAC state after the secret is prepared once and copied per
/// call, which halves the cost on the ingest path.
public struct KeyHasher: Sendable {
    private let prototype: HMAC<SHA256>

    public init(secret: [UInt8]) {
        prototype = HMAC<SHA256>(key: SymmetricKey(data: secret))
    }

    /// The hash of an idempotency key of a series.
    public func hashKey(_ key: String, series: SeriesKey) -> KeyHash { hash(0x4B, key, series) }

    /// The hash of a payload fingerprint of a series.
    public func hashPayload(_ payload: String, series: SeriesKey) -> KeyHash { hash(0x50, payload, series) }

    private func hash(_ domain: UInt8, _ value: String, _ series: SeriesKey) -> KeyHash {
        var hmac = prototype
        var header: [UInt8] = [domain]
        header.append(contentsOf: series.service.utf8)
        header.append(0)
        header.append(contentsOf: series.operation.utf8)
        header.append(0)
        hmac.update(data: header)
        hmac.update(data: Array(value.utf8))
        return KeyHash(digest: hmac.finalize())
    }
}
