import DedupVitalsCore

/// The per-series families of the protobuf `/metrics`, in the order and with the samples of the text formats
/// (``MetricsRenderer``), except `dedup_retry_delay_seconds`, which is a native histogram with sparse buckets
/// (``RetryDelayNativeLayout``) unless `metrics.retry_delay_protobuf` asks for the classic buckets.
enum ProtobufSeriesFamilies {
    static func make(
        series: [RollingWindows.SeriesWindows], forensics: MetricsRenderer.Forensics, windows: [PromDuration],
        plan: SeriesExportPlan, arena: LabelArena
    ) -> [ProtobufMetricsStream.Family] {
        typealias Family = ProtobufMetricsStream.Family
        // Label pairs are encoded once into the arena (as `Metric.label` fields); metrics borrow slices of it.
        func labels(_ names: [String], _ values: [String]) -> BorrowedBytes {
            arena.add(bytes: ProtobufMetrics.labelPairs(names, values))
        }
        let labelsOf = labelSets(series, arena: arena)
        let outcomes = Array(Outcome.allCases)
        let outcomeLabels = outcomes.map { labels(["outcome"], [$0.name]) }
        let windowLabels = windows.map { labels(["window"], [ServiceConfig.windowLabel($0)]) }
        let none = labels([], [])
        let counter = ProtobufMetrics.Field.metricCounter
        let gauge = ProtobufMetrics.Field.metricGauge

        // Everything a metric reads is gathered into flat arrays first, so that writing a metric reads plain
        // values: no per-series struct copies (and their reference counting) in the hot loop.
        let totals = series.map(\.totals)
        var exportedWindows: [Int] = []
        var windowStarts = [0]
        windowStarts.reserveCapacity(series.count + 1)
        for index in series.indices {
            exportedWindows += plan.profile(of: index).windows
            windowStarts.append(exportedWindows.count)
        }

        var families: [Family] = []
        families.append(
            Family(family: MetricsCatalog.events) { encoder, index in
                for outcomeIndex in outcomes.indices {
                    ProtobufMetrics.appendScalarMetric(
                        labelsOf[index].bytes, outcomeLabels[outcomeIndex].bytes, valueField: counter,
                        value: Double(totals[index][outcomes[outcomeIndex]]), to: &encoder)
                }
            })
        /// A per-window gauge from each exported window's counts.
        func perWindow(_ family: MetricFamily, _ value: (OutcomeCounts) -> Double) {
            var values: [Double] = []
            values.reserveCapacity(exportedWindows.count)
            for index in series.indices {
                let counts = series[index].windows
                for position in windowStarts[index]..<windowStarts[index + 1] {
                    values.append(value(counts[exportedWindows[position]]))
                }
            }
            families.append(
                Family(family: family) { [exportedWindows, windowStarts, values] encoder, index in
                    for position in windowStarts[index]..<windowStarts[index + 1] {
                        ProtobufMetrics.appendScalarMetric(
                            labelsOf[index].bytes, windowLabels[exportedWindows[position]].bytes, valueField: gauge,
                            value: values[position], to: &encoder)
                    }
                })
        }
        perWindow(MetricsCatalog.duplicateRatio) { $0.duplicateRatio }
        perWindow(MetricsCatalog.attempts) { Double($0.attempts) }

        /// A family of one sample per series, from `values` (parallel to `series`).
        func perSeries(_ family: MetricFamily, _ values: [Int64]) {
            let field = ProtobufMetrics.valueField(family.type)
            families.append(
                Family(family: family) { encoder, index in
                    ProtobufMetrics.appendScalarMetric(
                        labelsOf[index].bytes, none.bytes, valueField: field, value: Double(values[index]), to: &encoder)
                })
        }
        func perSeries(_ counts: [SeriesKey: Int]) -> [Int64] {
            counts.isEmpty ? Array(repeating: 0, count: series.count) : series.map { Int64(counts[$0.series] ?? 0) }
        }
        perSeries(MetricsCatalog.inFlightKeys, forensics.inFlightKeys(of: series))
        perSeries(MetricsCatalog.staleInFlightKeys, perSeries(forensics.staleInFlightKeys))
        let doubleExecutions = series.map(\.totals.doubleExecutions)
        let exemplars = forensics.doubleExecutionExemplars(of: series)
        families.append(
            Family(family: MetricsCatalog.doubleExecutions) { encoder, index in
                guard let exemplar = exemplars[index] else {
                    return ProtobufMetrics.appendScalarMetric(
                        labelsOf[index].bytes, none.bytes, valueField: counter, value: Double(doubleExecutions[index]),
                        to: &encoder)
                }
                encoder.nested(ProtobufMetrics.Field.familyMetric) { metric in
                    metric.raw(labelsOf[index].bytes)
                    metric.nested(counter) { value in
                        value.doubleField(1, Double(doubleExecutions[index]))
                        ProtobufMetrics.appendExemplar(exemplar, value: 1, field: 2, to: &value)
                    }
                }
            })
        perSeries(MetricsCatalog.lateRetries, series.map(\.totals.lateRetries))
        perSeries(MetricsCatalog.narrowKeys, series.map(\.totals.narrowKeys))
        families.append(retryDelay(series: series, forensics: forensics, plan: plan, labelsOf: labelsOf, arena: arena))
        return families
    }

    /// The `service` and `operation` label pairs of every series, encoded into one buffer that is copied into the
    /// arena at once (not one allocation per series).
    private static func labelSets(_ series: [RollingWindows.SeriesWindows], arena: LabelArena) -> [BorrowedBytes] {
        var encoder = ProtobufEncoder(capacity: series.count * 48)
        var ends: [Int] = []
        ends.reserveCapacity(series.count)
        for element in series {
            ProtobufMetrics.labelPair("service", element.series.service, into: &encoder, field: 1)
            ProtobufMetrics.labelPair("operation", element.series.operation, into: &encoder, field: 1)
            ends.append(encoder.count)
        }
        let whole = encoder.withUnsafeBytes { arena.add(raw: $0) }
        var start = 0
        return ends.map { end in
            defer { start = end }
            return BorrowedBytes(bytes: UnsafeRawBufferPointer(rebasing: whole.bytes[start..<end]))
        }
    }

    /// Each series' histogram body is encoded once, here, into the arena: the stream writes every family twice (the
    /// first time only counting), and copying a body is cheaper than encoding it again. Series without retries share
    /// one body.
    private static func retryDelay(
        series: [RollingWindows.SeriesWindows], forensics: MetricsRenderer.Forensics, plan: SeriesExportPlan,
        labelsOf: [BorrowedBytes], arena: LabelArena
    ) -> ProtobufMetricsStream.Family {
        let histograms = forensics.retryDelays(of: series)
        let exported = series.indices.map { plan.profile(of: $0).retryDelay }
        let mode = plan.retryDelayProtobuf
        var bodies = ProtobufEncoder(capacity: 1024)
        appendHistogram(RetryDelayHistogram(), mode: mode, to: &bodies)
        let emptyEnd = bodies.count
        var ranges = [Range<Int>](repeating: 0..<emptyEnd, count: series.count)
        for index in series.indices where exported[index] {
            guard let histogram = histograms[index], histogram.count > 0 || !histogram.exemplars.isEmpty else { continue }
            let start = bodies.count
            appendHistogram(histogram, mode: mode, to: &bodies)
            ranges[index] = start..<bodies.count
        }
        let stored = bodies.withUnsafeBytes { arena.add(raw: $0) }
        let bodyOf = ranges.map { BorrowedBytes(bytes: UnsafeRawBufferPointer(rebasing: stored.bytes[$0])) }
        return ProtobufMetricsStream.Family(family: MetricsCatalog.retryDelay) { encoder, index in
            guard exported[index] else { return }
            encoder.messageMetric(
                ProtobufMetrics.Field.familyMetric, labelsOf[index].bytes, field: ProtobufMetrics.Field.metricHistogram,
                body: bodyOf[index].bytes)
        }
    }

    /// The `Histogram` fields of retry delays in `mode`.
    private static func appendHistogram(
        _ histogram: RetryDelayHistogram, mode: MetricsExportConfig.ProtobufBuckets, to body: inout ProtobufEncoder
    ) {
        ProtobufHistogram.appendTotals(count: histogram.count, sum: histogram.sum, to: &body)
        if mode != .native {
            let exemplars = histogram.exemplars
            histogram.withCounts { counts in
                ProtobufHistogram.appendClassicBuckets(
                    counts: counts, bounds: RetryDelayHistogram.bounds,
                    exemplar: { exemplars.isEmpty ? nil : exemplars[$0].map { ($0.moment, $0.value) } }, to: &body)
            }
        }
        if mode != .classic {
            histogram.withCounts { counts in
                ProtobufHistogram.appendNativeBuckets(
                    counts: counts, indexes: RetryDelayNativeLayout.indexes, schema: RetryDelayNativeLayout.schema,
                    to: &body)
            }
            for case let exemplar? in histogram.exemplars {
                ProtobufMetrics.appendExemplar(exemplar.moment, value: exemplar.value, field: 16, to: &body)
            }
        }
    }
}
