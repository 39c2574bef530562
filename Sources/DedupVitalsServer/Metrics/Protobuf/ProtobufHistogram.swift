import DedupVitalsCore

/// The fields of an `io.prometheus.client.Histogram` message: sample_count 1, sample_sum 2, the classic buckets 3
/// (`Bucket`: cumulative_count 1, upper_bound 2, exemplar 3), and the native (sparse) form: schema 5,
/// zero_threshold 6, zero_count 7, positive_span 12 (`BucketSpan`: offset 1, length 2), positive_delta 13 and the
/// native exemplars 16.
enum ProtobufHistogram {
    /// The zero bucket's half-width of every native histogram written here, as Prometheus client libraries use
    /// (2⁻¹²⁸). Retry delays are never negative and a delay of 0 is counted in the lowest bucket (see
    /// ``RetryDelayNativeLayout``), so the zero bucket stays empty; the threshold is above 0 because Prometheus
    /// 2.42 tells a native histogram from a classic one by a zero threshold or zero count above 0, or by
    /// sparse buckets, and an empty histogram has neither of the latter.
    static let zeroThreshold = 0x1p-128

    /// `sample_count` and `sample_sum`, left out when 0.
    static func appendTotals(count: Int64, sum: Double, to encoder: inout ProtobufEncoder) {
        if count != 0 { encoder.varintField(1, UInt64(count)) }
        if sum.bitPattern != 0 { encoder.doubleField(2, sum) }
    }

    /// The classic buckets of non-cumulative `counts` (one per bound, then the +Inf bucket): cumulative counts
    /// per upper bound. The +Inf bucket is implied by `sample_count` and written only to carry an exemplar.
    static func appendClassicBuckets(
        counts: UnsafeBufferPointer<Int64>, bounds: [Double],
        exemplar: (Int) -> (moment: TracedMoment, value: Double)? = { _ in nil }, to encoder: inout ProtobufEncoder
    ) {
        var cumulative: Int64 = 0
        for (index, count) in counts.enumerated() {
            cumulative += count
            let example = exemplar(index)
            guard index < bounds.count || example != nil else { continue }
            encoder.nested(3) { bucket in
                if cumulative != 0 { bucket.varintField(1, UInt64(cumulative)) }
                bucket.doubleField(2, index < bounds.count ? bounds[index] : .infinity)
                if let example { ProtobufMetrics.appendExemplar(example.moment, value: example.value, field: 3, to: &bucket) }
            }
        }
    }

    /// A whole classic histogram (``BucketHistogram``).
    static func appendClassic(_ histogram: BucketHistogram, to encoder: inout ProtobufEncoder) {
        appendTotals(count: histogram.count, sum: histogram.sum, to: &encoder)
        histogram.counts.withUnsafeBufferPointer {
            appendClassicBuckets(counts: $0, bounds: histogram.bounds, to: &encoder)
        }
    }

    /// The native form of non-cumulative `counts` whose bucket `i` is the native bucket `indexes[i]` (ascending)
    /// of `schema`: only the non-empty buckets, as spans of consecutive indexes and deltas between neighbouring
    /// counts. Without observations, one empty span, which marks the histogram as native for every Prometheus
    /// version that reads them.
    static func appendNativeBuckets(
        counts: UnsafeBufferPointer<Int64>, indexes: [Int32], schema: Int32, to encoder: inout ProtobufEncoder
    ) {
        encoder.signedField(5, Int64(schema))
        encoder.doubleField(6, zeroThreshold)
        var span: (start: Int32, length: UInt64)?
        var previousIndex: Int32 = 0
        func close(_ span: (start: Int32, length: UInt64), offset: Int32, into encoder: inout ProtobufEncoder) {
            encoder.nested(12) { message in
                if offset != 0 { message.signedField(1, Int64(offset)) }
                message.varintField(2, span.length)
            }
        }
        var offset: Int32 = 0
        var any = false
        for (bucket, count) in counts.enumerated() where count != 0 {
            let index = indexes[bucket]
            if let current = span, index == current.start + Int32(current.length) {
                span = (current.start, current.length + 1)
            } else {
                if let current = span { close(current, offset: offset, into: &encoder) }
                offset = any ? index - previousIndex - 1 : index
                span = (index, 1)
            }
            previousIndex = index
            any = true
        }
        guard let last = span else {
            encoder.nested(12) { _ in }
            return
        }
        close(last, offset: offset, into: &encoder)
        encoder.nested(13) { deltas in
            var previous: Int64 = 0
            for count in counts where count != 0 {
                deltas.varint(ProtobufEncoder.zigzag(count - previous))
                previous = count
            }
        }
    }
}
