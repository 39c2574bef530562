import DedupVitalsCore

/// The protobuf counterpart of ``MetricsWriter`` for the families that are not per series: each family is
/// collected, then written as one length-delimited `MetricFamily`.
///
/// A family without samples is left out, as Prometheus client libraries do: the text formats still write its HELP
/// and TYPE, but a `MetricFamily` without a `Metric` makes Prometheus' protobuf parser (2.42) fail on the scrape.
struct ProtobufSectionWriter: MetricsSink {
    private var output = ProtobufEncoder(capacity: 16 * 1024)
    private var current: MetricFamily?
    private var metrics = ProtobufEncoder(capacity: 4096)

    mutating func family(_ family: MetricFamily) {
        closeFamily()
        current = family
    }

    mutating func sample(_ family: MetricFamily, _ labelValues: [String], _ value: Int64) {
        sample(family, labelValues, Double(value))
    }

    mutating func sample(_ family: MetricFamily, _ labelValues: [String], _ value: Double) {
        let labels = labels(family, labelValues)
        labels.withUnsafeBytes { labels in
            ProtobufMetrics.appendScalarMetric(
                labels, UnsafeRawBufferPointer(start: nil, count: 0), valueField: ProtobufMetrics.valueField(family.type),
                value: value, to: &metrics)
        }
    }

    mutating func histogram(_ family: MetricFamily, _ labelValues: [String], _ histogram: BucketHistogram) {
        let labels = labels(family, labelValues)
        metrics.nested(ProtobufMetrics.Field.familyMetric) { metric in
            metric.raw(labels)
            metric.nested(ProtobufMetrics.Field.metricHistogram) { ProtobufHistogram.appendClassic(histogram, to: &$0) }
        }
    }

    /// The delimited families written so far (the last one closed).
    mutating func finished() -> [UInt8] {
        closeFamily()
        return output.bytes
    }

    private func labels(_ family: MetricFamily, _ values: [String]) -> [UInt8] {
        precondition(family == current, "\(family.name) is written outside its family")
        precondition(values.count == family.labels.count, "\(family.name) takes the labels \(family.labels)")
        return ProtobufMetrics.labelPairs(family.labels, values)
    }

    private mutating func closeFamily() {
        if let current, metrics.count > 0 {
            let metrics = self.metrics
            metrics.withUnsafeBytes { ProtobufMetrics.appendDelimitedFamily(current, metrics: $0, to: &output) }
        }
        metrics.removeAll()
        current = nil
    }
}
