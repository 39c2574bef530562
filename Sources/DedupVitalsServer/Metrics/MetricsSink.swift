import DedupVitalsCore

/// Where the families that are not per series (counters, alerting, the service itself) write their samples: the
/// text writer (``MetricsWriter``) or the protobuf one (``ProtobufSectionWriter``). The sections are written once,
/// against this protocol, so that the two formats cannot disagree on what they export.
protocol MetricsSink {
    /// Starts a family; the samples that follow belong to it.
    mutating func family(_ family: MetricFamily)
    /// A sample of `family`, with one value for each of its labels, in the family's order.
    mutating func sample(_ family: MetricFamily, _ labelValues: [String], _ value: Int64)
    mutating func sample(_ family: MetricFamily, _ labelValues: [String], _ value: Double)
    /// A classic histogram of `family`.
    mutating func histogram(_ family: MetricFamily, _ labelValues: [String], _ histogram: BucketHistogram)
}

extension MetricsSink {
    /// A sample of a family without labels.
    mutating func sample(_ family: MetricFamily, _ value: Int64) {
        sample(family, [], value)
    }
}
