import NIOCore

/// The protobuf `/metrics` (`encoding=delimited`) as a sequence of chunks of about ``MetricsStream/chunkSize``
/// bytes: each per-series family as one length-delimited `MetricFamily`, then the other families, encoded up front.
///
/// A `MetricFamily` is preceded by its length, so each family is encoded twice: once only counting its bytes
/// (``ProtobufEncoder/counter()``), then for real, straight into the chunks. Encoding a family whole into one buffer
/// first (about 3 MB for `dedup_events_total` at 10,000 series) and copying it out cost more than the second pass:
/// a fresh buffer of that size is mapped and page-faulted in on every scrape. Families without a metric are left
/// out (see ``ProtobufSectionWriter``).
struct ProtobufMetricsStream: Sendable, MetricsChunks {
    /// A family with metrics for every series.
    struct Family: Sendable {
        var family: MetricFamily
        /// Appends the family's `Metric` fields of the series at an index; the same bytes every time.
        var write: @Sendable (inout ProtobufEncoder, Int) -> Void
    }

    private let families: [Family]
    /// The memory the families' pre-encoded label pairs point into.
    private let labels: LabelArena
    private let seriesCount: Int
    private var tail: [UInt8]?
    private var family = 0
    /// The next series of the current family; nil before its length is known.
    private var series: Int?
    /// Bytes of the current family's metrics counted in the first pass, to be checked against those written.
    private var expected = 0
    private var written = 0
    private var chunk = ProtobufEncoder(capacity: MetricsStream.chunkSize + 64 * 1024)

    init(families: [Family], seriesCount: Int, labels: LabelArena, tail: [UInt8]) {
        self.families = families
        self.labels = labels
        self.seriesCount = seriesCount
        self.tail = tail
    }

    /// The next chunk; nil after the last.
    mutating func next() -> ByteBuffer? {
        chunk.removeAll()
        while family < families.count, chunk.count < MetricsStream.chunkSize {
            let current = families[family]
            guard var index = series else {
                var counter = ProtobufEncoder.counter()
                for index in 0..<seriesCount { current.write(&counter, index) }
                guard counter.count > 0 else {
                    family += 1
                    continue
                }
                let header = ProtobufMetrics.header(current.family)
                chunk.varint(UInt64(header.count + counter.count))
                chunk.raw(header)
                (series, expected, written) = (0, counter.count, 0)
                continue
            }
            let before = chunk.count
            while index < seriesCount, chunk.count < MetricsStream.chunkSize {
                current.write(&chunk, index)
                index += 1
            }
            written += chunk.count - before
            if index < seriesCount {
                series = index
            } else {
                precondition(written == expected, "\(current.family.name): counted \(expected) bytes, wrote \(written)")
                (family, series) = (family + 1, nil)
            }
        }
        if family >= families.count, let tail {
            chunk.raw(tail)
            self.tail = nil
        }
        guard chunk.count > 0 else { return nil }
        var buffer = ByteBufferAllocator().buffer(capacity: chunk.count)
        chunk.withUnsafeBytes { _ = buffer.writeBytes($0) }
        return buffer
    }
}

/// A `/metrics` exposition handed out chunk by chunk, whatever its format.
protocol MetricsChunks {
    /// The next chunk; nil after the last.
    mutating func next() -> ByteBuffer?
}
