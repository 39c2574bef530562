import DedupVitalsCore

/// The messages of `io.prometheus.client` (prometheus/client_model's `metrics.proto`) that `/metrics` writes, by
/// field number: `MetricFamily` (name 1, help 2, type 3, metric 4, unit 5), `Metric` (label 1, gauge 2, counter 3,
/// histogram 7), `LabelPair` (name 1, value 2), `Gauge`/`Counter` (value 1; a counter's exemplar 2), `Exemplar`
/// (label 1, value 2, timestamp 3) and `Histogram` (see ``ProtobufHistogram``).
///
/// Fields at their default (a value of +0, an empty string) are left out, as proto3 encoders do: a decoder reads
/// them as the default, and most samples of a large service are zeros.
enum ProtobufMetrics {
    enum Field {
        static let familyName = 1
        static let familyHelp = 2
        static let familyType = 3
        static let familyMetric = 4
        static let familyUnit = 5
        static let metricLabel = 1
        static let metricGauge = 2
        static let metricCounter = 3
        static let metricHistogram = 7
    }

    /// `MetricType`: COUNTER 0, GAUGE 1, HISTOGRAM 4.
    static func typeNumber(_ type: MetricFamily.FamilyType) -> UInt64 {
        switch type {
        case .counter: 0
        case .gauge: 1
        case .histogram: 4
        }
    }

    /// The `MetricFamily` fields before its metrics.
    static func header(_ family: MetricFamily) -> [UInt8] {
        var encoder = ProtobufEncoder(capacity: 64 + family.help.utf8.count)
        encoder.stringField(Field.familyName, family.name)
        encoder.stringField(Field.familyHelp, family.help)
        let type = typeNumber(family.type)
        if type != 0 { encoder.varintField(Field.familyType, type) }
        if let unit = family.unit { encoder.stringField(Field.familyUnit, unit) }
        return encoder.bytes
    }

    /// One length-delimited `MetricFamily` (the `encoding=delimited` stream is a sequence of them): the varint
    /// length, the header, then `metrics`, the already encoded `metric` fields.
    static func appendDelimitedFamily(_ family: MetricFamily, metrics: UnsafeRawBufferPointer, to output: inout ProtobufEncoder) {
        let header = header(family)
        output.varint(UInt64(header.count + metrics.count))
        output.raw(header)
        output.raw(metrics)
    }

    /// `Metric.label` fields for `names` and `values`, in order.
    static func labelPairs(_ names: [String], _ values: [String]) -> [UInt8] {
        var encoder = ProtobufEncoder()
        for (name, value) in zip(names, values) { labelPair(name, value, into: &encoder, field: Field.metricLabel) }
        return encoder.bytes
    }

    /// A `LabelPair` as field `field` (of a `Metric` or an `Exemplar`), its length computed up front.
    static func labelPair(_ name: String, _ value: String, into encoder: inout ProtobufEncoder, field: Int) {
        let (nameLength, valueLength) = (name.utf8.count, value.utf8.count)
        let length =
            1 + ProtobufEncoder.varintSize(nameLength) + nameLength
            + (valueLength == 0 ? 0 : 1 + ProtobufEncoder.varintSize(valueLength) + valueLength)
        encoder.messageHeader(field, length: length)
        encoder.stringField(1, name)
        if valueLength > 0 { encoder.stringField(2, value) }
    }

    /// The `Metric` field of the family's value: `counter` or `gauge`.
    static func valueField(_ type: MetricFamily.FamilyType) -> Int {
        type == .counter ? Field.metricCounter : Field.metricGauge
    }

    /// A whole counter or gauge `Metric` (as field 4 of its family) from pre-encoded label pairs.
    @inline(__always)
    static func appendScalarMetric(
        _ shared: UnsafeRawBufferPointer, _ own: UnsafeRawBufferPointer, valueField: Int, value: Double,
        to encoder: inout ProtobufEncoder
    ) {
        encoder.scalarMetric(Field.familyMetric, shared, own, valueField: valueField, value: value)
    }

    /// An `Exemplar`: trace and span ids as labels, the observed value and the time.
    static func appendExemplar(_ moment: TracedMoment, value: Double, field: Int, to encoder: inout ProtobufEncoder) {
        encoder.nested(field) { exemplar in
            labelPair("trace_id", moment.trace.traceIDHex, into: &exemplar, field: 1)
            if let span = moment.trace.spanIDHex { labelPair("span_id", span, into: &exemplar, field: 1) }
            exemplar.doubleField(2, value)
            exemplar.nested(3) { timestamp in
                let (seconds, millis) = moment.timeMs.quotientAndRemainder(dividingBy: 1000)
                if seconds != 0 { timestamp.varintField(1, UInt64(bitPattern: seconds)) }
                if millis != 0 { timestamp.varintField(2, UInt64(millis * 1_000_000)) }
            }
        }
    }
}
