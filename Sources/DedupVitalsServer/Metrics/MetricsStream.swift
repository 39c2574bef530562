import NIOCore

/// The `/metrics` exposition as a sequence of chunks of about ``chunkSize`` bytes: each per-series family (its
/// HELP and TYPE, then its samples for every series), then the small families rendered up front.
struct MetricsStream: Sendable, MetricsChunks {
    /// A family with samples for every series.
    struct Family: Sendable {
        var family: MetricFamily
        /// Writes the family's samples of the series at an index.
        var write: @Sendable (inout MetricsWriter, Int) -> Void

        init(_ family: MetricFamily, write: @escaping @Sendable (inout MetricsWriter, Int) -> Void) {
            self.family = family
            self.write = write
        }
    }

    static let chunkSize = 256 * 1024

    private let families: [Family]
    /// The memory the families' label slices point into.
    private let labels: LabelArena
    private let seriesCount: Int
    private let format: ExpositionFormat
    private var tail: ByteBuffer?
    private var family = 0
    private var series = 0

    init(families: [Family], seriesCount: Int, format: ExpositionFormat, labels: LabelArena, tail: ByteBuffer) {
        self.families = families
        self.labels = labels
        self.seriesCount = seriesCount
        self.format = format
        self.tail = tail
    }

    /// The next chunk; nil after the last.
    mutating func next() -> ByteBuffer? {
        guard family < families.count else {
            defer { tail = nil }
            return tail
        }
        var writer = MetricsWriter(format: format, capacity: Self.chunkSize + 4096)
        while family < families.count, writer.writtenBytes < Self.chunkSize {
            let current = families[family]
            if series == 0 { writer.family(current.family) }
            let end = min(seriesCount, series + 64)
            while series < end {
                current.write(&writer, series)
                series += 1
            }
            if series >= seriesCount {
                family += 1
                series = 0
            }
        }
        return writer.finished()
    }
}
