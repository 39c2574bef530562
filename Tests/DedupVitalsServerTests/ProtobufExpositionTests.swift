import DedupVitalsCore
import Foundation
import NIOCore
import Testing

@testable import DedupVitalsServer

/// The protobuf `/metrics`: decoded independently (``MetricFamilyDecoder``) and compared, sample by sample, with
/// the text exposition of the same state, so that the two formats carry the same information.
@Suite struct ProtobufExpositionTests {
    /// Text samples as `name{label="value",…}` (labels sorted) → value.
    static func textSamples(_ text: String) -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                continue
            }
            let series = line[..<space]
            guard let brace = series.firstIndex(of: "{") else {
                samples[String(series)] = value
                continue
            }
            samples[
                key(
                    String(series[..<brace]),
                    parseLabels(series[series.index(after: brace)..<series.index(before: series.endIndex)]))] =
                value
        }
        return samples
    }

    /// `a="x",b="y \"q\""` → ["a": "x", "b": "y \"q\""].
    static func parseLabels(_ text: Substring) -> [String: String] {
        var labels: [String: String] = [:]
        var rest = text[...]
        while let equals = rest.firstIndex(of: "=") {
            let name = String(rest[..<equals]).trimmingCharacters(in: CharacterSet(charactersIn: ","))
            var value = ""
            var index = rest.index(equals, offsetBy: 2)
            while rest[index] != "\"" {
                if rest[index] == "\\" {
                    index = rest.index(after: index)
                    value.append(rest[index] == "n" ? "\n" : rest[index])
                } else {
                    value.append(rest[index])
                }
                index = rest.index(after: index)
            }
            labels[name] = value
            rest = rest[rest.index(after: index)...]
        }
        return labels
    }

    static func key(_ name: String, _ labels: [String: String]) -> String {
        labels.isEmpty
            ? name
            : name + "{" + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: ",") + "}"
    }

    /// The decoded families as text samples: counters and gauges as they are, histograms as their `_bucket` (with
    /// `le`), `_sum` and `_count` samples; a native retry-delay histogram through ``RetryDelayNativeLayout``.
    static func protobufSamples(_ families: [DecodedFamily]) throws -> [String: Double] {
        var samples: [String: Double] = [:]
        for family in families {
            for metric in family.metrics {
                if let value = metric.counter ?? metric.gauge {
                    samples[key(family.name, metric.labels)] = value
                    continue
                }
                let histogram = try #require(metric.histogram)
                var cumulative: [(bound: Double, count: Double)]
                if histogram.isNative {
                    #expect(family.name == MetricsCatalog.retryDelay.name, "only the retry-delay histogram is native")
                    var counts = [Int64](repeating: 0, count: RetryDelayNativeLayout.indexes.count)
                    for (index, count) in histogram.nativeBuckets {
                        let bucket = try #require(RetryDelayNativeLayout.indexes.firstIndex(of: Int32(index)))
                        counts[bucket] = count
                    }
                    var running = 0.0
                    cumulative = counts.enumerated().map { bucket, count in
                        running += Double(count)
                        return (
                            bucket < RetryDelayHistogram.bounds.count ? RetryDelayHistogram.bounds[bucket] : .infinity, running
                        )
                    }
                } else {
                    cumulative = histogram.buckets.map { ($0.bound, Double($0.cumulative)) }
                    if cumulative.last?.bound != .infinity { cumulative.append((.infinity, Double(histogram.count))) }
                }
                for (bound, count) in cumulative {
                    samples[key(family.name + "_bucket", metric.labels.merging(["le": MetricsWriter.format(bound)]) { $1 })] =
                        count
                }
                samples[key(family.name + "_sum", metric.labels)] = histogram.sum
                samples[key(family.name + "_count", metric.labels)] = Double(histogram.count)
            }
        }
        return samples
    }

    @Test func protobufCarriesEverySampleOfTheTextFormat() throws {
        let text = Self.textSamples(MetricsGolden.render(format: .text))
        let families = try MetricFamilyDecoder.decode(MetricsGolden.renderProtobuf())
        let protobuf = try Self.protobufSamples(families)
        #expect(text.count > 150)
        #expect(Set(protobuf.keys).symmetricDifference(text.keys).sorted() == [])
        for (key, value) in text where protobuf[key] != value {
            Issue.record("\(key): text \(value), protobuf \(protobuf[key].map(String.init(describing:)) ?? "missing")")
        }
        // Families in exposition order, each with the catalog's help, type and unit, and never empty.
        let catalog = Dictionary(uniqueKeysWithValues: MetricsCatalog.all.map { ($0.name, $0) })
        let order = MetricsCatalog.all.map(\.name).filter { name in families.contains { $0.name == name } }
        #expect(families.map(\.name) == order)
        for family in families {
            let declared = try #require(catalog[family.name])
            #expect(family.help == declared.help)
            #expect(family.type == ProtobufMetrics.typeNumber(declared.type))
            #expect(family.unit == (declared.unit ?? ""))
            #expect(!family.metrics.isEmpty, "\(family.name) is written without a metric")
        }
    }

    @Test func retryDelaysAreANativeHistogramWithOnlyTheNonEmptyBuckets() throws {
        let families = try MetricFamilyDecoder.decode(MetricsGolden.renderProtobuf())
        let retry = try #require(families.first { $0.name == MetricsCatalog.retryDelay.name })
        let payments = try #require(retry.metrics.first { $0.labels["service"] == "payments" }?.histogram)
        // The golden state observed 0.05, 0.3, 2, 45 and 90,000 s: five non-empty classic buckets of 19.
        #expect(payments.schema == 8)
        #expect(payments.buckets.isEmpty, "native only: no classic buckets by default")
        #expect(payments.positiveDeltas.count == 5)
        #expect(payments.count == 5)
        #expect(payments.sum == 0.05 + 0.3 + 2 + 45 + 90_000)
        #expect(payments.zeroThreshold > 0 && payments.zeroCount == 0)
        #expect(Set(payments.nativeBuckets.values) == [1])
        // A series without observations: an empty span marks it native.
        let support = try #require(retry.metrics.first { $0.labels["service"] == "support" }?.histogram)
        #expect(support.count == 0 && support.positiveDeltas.isEmpty)
        #expect(support.positiveSpans.map(\.offset) == [0] && support.positiveSpans.map(\.length) == [0])
        #expect(support.isNative)
    }

    @Test func theNativeBucketOfEachClassicBoundEndsWithinAFewThousandthsAboveIt() {
        let indexes = RetryDelayNativeLayout.indexes
        #expect(indexes.count == RetryDelayHistogram.bounds.count + 1)
        #expect(zip(indexes, indexes.dropFirst()).allSatisfy { $0 < $1 })
        for (bound, index) in zip(RetryDelayHistogram.bounds, indexes) {
            let upper = RetryDelayNativeLayout.upperBound(index)
            #expect(RetryDelayNativeLayout.upperBound(index - 1) < bound && bound <= upper, "\(bound) outside bucket \(index)")
            #expect(upper / bound - 1 < 0.003, "\(bound): bucket ends at \(upper)")
            if [0.25, 0.5, 1].contains(bound) { #expect(upper == bound) }
        }
        #expect(RetryDelayNativeLayout.nativeIndex(containing: 1, schema: 0) == 0)
        #expect(RetryDelayNativeLayout.nativeIndex(containing: 1.5, schema: 0) == 1)
        #expect(RetryDelayNativeLayout.nativeIndex(containing: 2, schema: 0) == 1)
        #expect(RetryDelayNativeLayout.nativeIndex(containing: 2.01, schema: 0) == 2)
    }

    @Test(arguments: [MetricsExportConfig.ProtobufBuckets.classic, .both])
    func classicBucketsAreSentWhenConfigured(mode: MetricsExportConfig.ProtobufBuckets) throws {
        var export = MetricsExportConfig()
        export.retryDelayProtobuf = mode
        let families = try MetricFamilyDecoder.decode(MetricsGolden.renderProtobuf(export: export))
        let retry = try #require(families.first { $0.name == MetricsCatalog.retryDelay.name })
        let payments = try #require(retry.metrics.first { $0.labels["service"] == "payments" }?.histogram)
        #expect(payments.buckets.map(\.bound) == RetryDelayHistogram.bounds)
        #expect(payments.buckets.map(\.cumulative) == [1, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4])
        #expect(payments.isNative == (mode == .both))
        // Whatever the mode, the samples are those of the text format.
        let text = Self.textSamples(MetricsGolden.render(format: .text))
        #expect(try Self.protobufSamples(families) == text)
    }

    @Test func exemplarsOfCountersAndRetryDelaysAreKept() throws {
        let t0: Int64 = 1_800_000_123_456
        let series = SeriesKey(service: "payments", operation: "refund")
        let trace = try #require(
            TraceContext(traceHigh: 0x4bf9_2f35_77b3_4da6, traceLow: 0xa3ce_929d_0e0e_4736, span: 0x00f0_67aa_0ba9_02b7))
        var delays = RetryDelayHistogram()
        delays.observe(seconds: 3, exemplar: TracedMoment(trace: trace, timeMs: t0))
        var windows = RollingWindows()
        windows.apply(
            BatchDelta(
                events: [Event(service: series.service, operation: series.operation, outcome: .miss, timeMs: t0)],
                receivedAtMs: t0, bucketWidthMs: BucketClock.defaultWidthMs))
        let forensics = MetricsRenderer.Forensics(
            figures: KeyForensics.SeriesFigures(
                series: [series], retryDelays: [series: delays],
                doubleExecutionExemplars: [series: TracedMoment(trace: trace, timeMs: t0)]))
        let renderer = MetricsRenderer(windows: [.minutes(5)], version: "1")
        let buffer = renderer.renderProtobuf(
            series: windows.snapshot(windows: [.minutes(5)], nowMs: t0), forensics: forensics, counters: IngestCounters())
        let families = try MetricFamilyDecoder.decode(Array(buffer.readableBytesView))
        let expected = DecodedExemplar(
            labels: ["trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7"], value: 1,
            seconds: 1_800_000_123, nanos: 456_000_000)
        let doubles = try #require(families.first { $0.name == MetricsCatalog.doubleExecutions.name })
        #expect(doubles.metrics.first?.counterExemplar == expected)
        let retry = try #require(families.first { $0.name == MetricsCatalog.retryDelay.name }?.metrics.first?.histogram)
        var delayExemplar = expected
        delayExemplar.value = 3
        #expect(retry.nativeExemplars == [delayExemplar])
    }

    @Test func familiesWithoutSamplesAreLeftOut() throws {
        // Without alerting state or self-measurements the text format writes HELP and TYPE of families that have
        // no sample; Prometheus' protobuf parser fails on a family without a metric.
        let renderer = MetricsRenderer(windows: [.minutes(1)], version: "1")
        let text = String(buffer: renderer.render(series: [], counters: IngestCounters(), format: .text))
        #expect(text.contains("# TYPE dedup_http_request_duration_seconds histogram"))
        let families = try MetricFamilyDecoder.decode(
            Array(renderer.renderProtobuf(series: [], counters: IngestCounters()).readableBytesView))
        #expect(!families.isEmpty)
        #expect(families.allSatisfy { !$0.metrics.isEmpty })
        #expect(!families.contains { $0.name == MetricsCatalog.httpRequestDuration.name })
        #expect(families.contains { $0.name == MetricsCatalog.buildInfo.name })
    }

    @Test func manySeriesSpanChunksAndDecodeWhole() throws {
        let t0: Int64 = 1_800_000_000_000
        let events = (0..<3000).map {
            Event(service: "svc\($0 % 7)", operation: "op\($0)", outcome: .hit, timeMs: t0 - Int64($0))
        }
        var windows = RollingWindows()
        windows.apply(BatchDelta(events: events, receivedAtMs: t0, bucketWidthMs: BucketClock.defaultWidthMs))
        let renderer = MetricsRenderer(windows: [.minutes(1), .hours(1)], version: "1")
        var stream = renderer.protobufStream(
            series: windows.snapshot(windows: [.minutes(1), .hours(1)], nowMs: t0), counters: IngestCounters())
        var chunks: [Int] = []
        var bytes: [UInt8] = []
        while let chunk = stream.next() {
            chunks.append(chunk.readableBytes)
            bytes += chunk.readableBytesView
        }
        #expect(chunks.count > 2)
        #expect(chunks.dropLast().allSatisfy { $0 >= MetricsStream.chunkSize && $0 <= MetricsStream.chunkSize + 4096 })
        let families = try MetricFamilyDecoder.decode(bytes)
        let events3000 = try #require(families.first { $0.name == MetricsCatalog.events.name })
        #expect(events3000.metrics.count == 3000 * Outcome.allCases.count)
        #expect(events3000.metrics.filter { $0.labels["outcome"] == "hit" }.allSatisfy { $0.counter == 1 })
        let ratios = try #require(families.first { $0.name == MetricsCatalog.duplicateRatio.name })
        #expect(ratios.metrics.count == 6000)
    }
}
