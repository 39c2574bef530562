/// Reads the body of `GET /v1/series` into a ``SeriesHistory``, with the meaning of its `Decodable` conformance (which
/// stays, and which the tests compare this reader with): every field required, unknown fields skipped.
///
/// Why by hand: a refresh of `top` reads the history of up to 200 series (``DashboardFetcher``), 18,000 points of
/// nine fields; with `JSONDecoder` that took a third of a refresh at 10,000 series, once the summary was read by
/// ``SummaryReader`` (docs/performance.md, "`top` at 10,000 series").
enum SeriesHistoryReader {
    static func read(_ body: UnsafeBufferPointer<UInt8>) throws -> SeriesHistory {
        var scanner = JSONScanner(body)
        var service: String?
        var operation: String?
        var window: String?
        var step: String?
        var points: [SeriesHistory.Point]?
        try scanner.forEachField { scanner, name in
            switch name {
            case "service": service = try scanner.string()
            case "operation": operation = try scanner.string()
            case "window": window = try scanner.string()
            case "step": step = try scanner.string()
            case "points": points = try self.points(&scanner)
            default: try scanner.skipValue()
            }
        }
        try scanner.finish()
        guard let service else { throw SummaryReader.Missing(field: "service") }
        guard let operation else { throw SummaryReader.Missing(field: "operation") }
        guard let window else { throw SummaryReader.Missing(field: "window") }
        guard let step else { throw SummaryReader.Missing(field: "step") }
        guard let points else { throw SummaryReader.Missing(field: "points") }
        return SeriesHistory(service: service, operation: operation, window: window, step: step, points: points)
    }

    /// Each point is flat: its start and the counts of its step.
    private static func points(_ scanner: inout JSONScanner) throws -> [SeriesHistory.Point] {
        var points: [SeriesHistory.Point] = []
        try scanner.forEachElement { scanner in
            var start: String?
            let counts = try SummaryReader.counts(&scanner) { scanner, name in
                switch name {
                case "start": start = try scanner.string()
                default: try scanner.skipValue()
                }
            }
            guard let start else { throw SummaryReader.Missing(field: "start") }
            points.append(SeriesHistory.Point(start: start, counts: counts))
        }
        return points
    }
}
