import Testing

@testable import DedupVitalsServer

/// Content negotiation of `GET /metrics` between the text format, OpenMetrics and the protobuf format.
@Suite struct ScrapeFormatTests {
    /// What Prometheus 2.42 sends with `--enable-feature=native-histograms`, and without it.
    static let prometheusWithProtobuf =
        "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,"
        + "application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,"
        + "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
    static let prometheus =
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
        + "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

    @Test(
        arguments: [
            (prometheusWithProtobuf, ScrapeFormat.protobuf),
            (prometheus, .exposition(.openMetrics)),
            (nil, .exposition(.text)),
            ("*/*", .exposition(.text)),
            ("application/json", .exposition(.text)),
            ("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited", .protobuf),
            // Without the delimited encoding or the message name, the body could not be read by the client.
            ("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text", .exposition(.text)),
            ("application/vnd.google.protobuf;encoding=delimited", .exposition(.text)),
            ("application/vnd.google.protobuf", .exposition(.text)),
            // q-values decide, whatever the order; equal q: the earlier one.
            (
                "text/plain;q=0.9,application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5",
                .exposition(.text)
            ),
            (
                "text/plain;q=0.4,application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5",
                .protobuf
            ),
            (
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0",
                .exposition(.text)
            ),
            (
                "application/openmetrics-text,application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited",
                .exposition(.openMetrics)
            ),
        ] as [(String?, ScrapeFormat)])
    func negotiates(accept: String?, expected: ScrapeFormat) {
        #expect(ScrapeFormat(accept: accept) == expected)
    }

    /// The text-only negotiation of before does not change: a header that prefers protobuf gets its best text format.
    @Test func expositionFormatNegotiationIgnoresProtobuf() {
        #expect(ExpositionFormat(accept: Self.prometheusWithProtobuf) == .openMetrics)
        #expect(
            ExpositionFormat(accept: "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited")
                == .text)
    }

    @Test func contentTypes() {
        #expect(
            ScrapeFormat.protobuf.contentType
                == "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited")
        #expect(ScrapeFormat.exposition(.openMetrics).contentType == ExpositionFormat.openMetrics.contentType)
    }
}
