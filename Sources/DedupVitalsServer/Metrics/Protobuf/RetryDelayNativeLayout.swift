import DedupVitalsCore
import Foundation

/// Where each bucket of ``RetryDelayHistogram`` goes in the native form of `dedup_retry_delay_seconds`.
///
/// A native bucket of schema `s` and index `i` holds (2^((i-1)/2^s), 2^(i/2^s)]. The classic bounds (0.1 s … 24 h:
/// 0.1, 2.5, 5, 10, 30, …) are not powers of two, and no schema has them as boundaries; only 0.25, 0.5 and 1 are.
/// The service keeps (and stores) counts per classic bucket, so each classic bucket (l, u] is sent as the one
/// native bucket of schema 8, the finest, that contains its upper bound u: a bucket less than 0.3 % wide ending
/// within 0.3 % above u (exactly at u for 0.25, 0.5 and 1). The counts, the sum and the count are the same as the
/// classic histogram's; `histogram_quantile` over the native series answers (nearly) the upper bound of the
/// classic bucket where the quantile falls, where over the classic buckets it interpolates linearly inside it.
/// The +Inf bucket (delays above 24 h) becomes the native bucket just above the one of 24 h.
/// docs/reference/metrics.md#native-histograms says the same for users.
enum RetryDelayNativeLayout {
    static let schema: Int32 = 8

    /// The native bucket index of each classic bucket, ascending (the last one is the +Inf bucket's).
    static let indexes: [Int32] = {
        var indexes = RetryDelayHistogram.bounds.map { nativeIndex(containing: $0, schema: schema) }
        indexes.append(indexes[indexes.count - 1] + 1)
        return indexes
    }()

    /// The index of the native bucket of `schema` that contains `value` (> 0): the `i` with
    /// 2^((i-1)/2^schema) < value ≤ 2^(i/2^schema). The logarithm gives it up to rounding; the bounds are then checked
    /// with exact powers.
    static func nativeIndex(containing value: Double, schema: Int32) -> Int32 {
        let scale = Double(1 << schema)
        var index = Int32((log2(value) * scale).rounded(.up))
        func upperBound(_ index: Int32) -> Double { exp2(Double(index) / scale) }
        while upperBound(index) < value { index += 1 }
        while upperBound(index - 1) >= value { index -= 1 }
        return index
    }

    /// The upper bound of native bucket `index` (tests, documentation).
    static func upperBound(_ index: Int32, schema: Int32 = schema) -> Double {
        exp2(Double(index) / Double(1 << schema))
    }
}
