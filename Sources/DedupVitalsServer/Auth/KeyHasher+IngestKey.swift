import DedupVitalsCore

extension KeyHasher {
    /// The stored form of an ingest `Idempotency-Key` of a token (`scope`): the keyed hash, in hex, never the key.
    /// The empty service name, which no event can carry, keeps these hashes apart from the events' key hashes.
    func ingestKeyHash(_ key: String, scope: String) -> String {
        let hash = hashKey(key, series: SeriesKey(service: "", operation: scope))
        return hash.bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
