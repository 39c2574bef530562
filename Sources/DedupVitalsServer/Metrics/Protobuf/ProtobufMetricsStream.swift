import NIOCore

/// The protobuf `/metrics` (`encoding=delimited`) as a sequence of chunks: each per-series family as one
/// length-delimited `MetricFamily`, then the other families, encoded up front.
///
/// A `MetricFamily` is preceded by its length, so a family is encoded whole before its first byte is sent (into one
/// buffer reused for every family: at 10,000 series the largest, `dedup_events_total`, is about 2 MB) and then
/// handed out in chunks of ``MetricsStream/chunkSize``. Families without a metric are left out (see
/// ``ProtobufSectionWriter``).
struct ProtobufMetricsStream: Sendable, MetricsChunks {
    /// A family with metrics for every series.
    struct Family: Sendable {
        var family: MetricFamily
        /// Appends the family's `Metric` fields of the series at an index.
        var write: @Sendable (inout ProtobufEncoder, Int) -> Void
    }

    private let families: [Family]
    /// The memory the families' pre-encoded label pairs point into.
    private let labels: LabelArena
    private let seriesCount: Int
    private var tail: [UInt8]?
    private var family = 0
    private var pending: ByteBuffer?
    private var body = ProtobufEncoder()

    init(families: [Family], seriesCount: Int, labels: LabelArena, tail: [UInt8]) {
        self.families = families
        self.labels = labels
        self.seriesCount = seriesCount
        self.tail = tail
    }

    /// The next chunk; nil after the last.
    mutating func next() -> ByteBuffer? {
        if var rest = pending, rest.readableBytes > 0 {
            let chunk = rest.readSlice(length: min(rest.readableBytes, MetricsStream.chunkSize))
            pending = rest.readableBytes > 0 ? rest : nil
            return chunk
        }
        while family < families.count {
            let current = families[family]
            family += 1
            body.removeAll()
            for series in 0..<seriesCount { current.write(&body, series) }
            guard body.count > 0 else { continue }
            let header = ProtobufMetrics.header(current.family)
            var prefix = ProtobufEncoder(capacity: 16)
            prefix.varint(UInt64(header.count + body.count))
            var buffer = ByteBufferAllocator().buffer(capacity: prefix.count + header.count + body.count)
            buffer.writeBytes(prefix.bytes)
            buffer.writeBytes(header)
            buffer.writeBytes(body.bytes)
            pending = buffer
            return next()
        }
        guard let tail, !tail.isEmpty else { return nil }
        self.tail = nil
        return ByteBuffer(bytes: tail)
    }
}

/// A `/metrics` exposition handed out chunk by chunk, whatever its format.
protocol MetricsChunks {
    /// The next chunk; nil after the last.
    mutating func next() -> ByteBuffer?
}
