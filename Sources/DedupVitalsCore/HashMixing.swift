/// Dictionary hashing of keys whose hash is known already (``SeriesKey`` computes its strings' hash once).
///
/// Swift's `Dictionary` hashes a key by running SipHash over what `hash(into:)` feeds it, once per lookup or insert:
/// seeding and finalising SipHash cost more than the rest of a lookup, and at 1,000 series the write path spent ~20 %
/// of its CPU there (docs/performance.md). `Hashable`'s `_rawHashValue(seed:)` is the entry point the standard library's
/// hash tables call (its integer types implement it directly); keys implementing it with ``mix(_:_:seed:)`` of
/// hashes already computed skip SipHash. The seed is still mixed in, so each table's order stays its own.
public enum HashMixing {
    /// A 64-bit finaliser (MurmurHash3's) over the values and the table's seed.
    @inlinable @inline(__always)
    public static func mix(_ first: Int, _ second: Int, seed: Int) -> Int {
        var x = UInt64(bitPattern: Int64(first)) ^ UInt64(bitPattern: Int64(seed))
        x = (x ^ (x >> 33)) &* 0xff51_afd7_ed55_8ccd
        x ^= UInt64(bitPattern: Int64(second)) &* 0x9e37_79b9_7f4a_7c15
        x = (x ^ (x >> 33)) &* 0xc4ce_b9fe_1a85_ec53
        return Int(Int64(bitPattern: x ^ (x >> 33)))
    }
}
