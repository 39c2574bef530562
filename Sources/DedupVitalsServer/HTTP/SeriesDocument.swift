import DedupVitalsCore

/// The JSON document of `GET /v1/series`: one point per step, oldest first; the last point holds the current bucket.
struct SeriesDocument: Encodable {
    struct Point: Encodable {
        var start: String
        var counts: SummaryDocument.Counts

        enum CodingKeys: String, CodingKey {
            case start
        }

        /// Flat: `{"start": ..., "attempts": ..., "miss": ..., ..., "duplicate_ratio": ...}`.
        func encode(to encoder: any Encoder) throws {
            try counts.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(start, forKey: .start)
        }
    }

    var service: String
    var operation: String
    var window: String
    var step: String
    var generatedAt: String
    var points: [Point]

    enum CodingKeys: String, CodingKey {
        case service, operation, window, step
        case generatedAt = "generated_at"
        case points
    }

    /// Groups the 10 s `buckets` that cover the window (oldest first, empty ones filled in) into points of `step`
    /// each, aligned so that the last point ends with the newest bucket.
    init(key: SeriesKey, window: PromDuration, step: PromDuration, buckets: [SeriesBuckets.Bucket], nowMs: Int64) {
        service = key.service
        operation = key.operation
        self.window = ServiceConfig.windowLabel(window)
        self.step = ServiceConfig.windowLabel(step)
        generatedAt = RFC3339.format(milliseconds: nowMs)
        let perPoint = Int(max(1, step.milliseconds / BucketClock.defaultWidthMs))
        let firstGroup = buckets.count % perPoint
        points = stride(from: firstGroup, to: buckets.count, by: perPoint).map { groupStart in
            let group = buckets[groupStart..<(groupStart + perPoint)]
            let sum = group.reduce(OutcomeCounts.zero) { $0 + $1.counts }
            return Point(start: RFC3339.format(milliseconds: group.first!.startMs), counts: .init(sum))
        }
    }
}
