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
        let labelsOf = series.map { labels(MetricsCatalog.seriesLabels, [$0.series.service, $0.series.operation]) }
        let outcomes = Array(Outcome.allCases)
        let outcomeLabels = outcomes.map { labels(["outcome"], [$0.name]) }
        let windowLabels = windows.map { labels(["window"], [ServiceConfig.windowLabel($0)]) }
        let none = labels([], [])
        let counter = ProtobufMetrics.Field.metricCounter
        let gauge = ProtobufMetrics.Field.metricGauge

        var families: [Family] = []
        families.append(
            Family(family: MetricsCatalog.events) { encoder, index in
                let totals = series[index].totals
                for outcomeIndex in outcomes.indices {
                    ProtobufMetrics.appendScalarMetric(
                        labelsOf[index].bytes, outcomeLabels[outcomeIndex].bytes, valueField: counter,
                        value: Double(totals[outcomes[outcomeIndex]]), to: &encoder)
                }
            })
        /// A per-window gauge from each window's counts.
        func perWindow(_ family: MetricFamily, _ value: @escaping @Sendable (OutcomeCounts) -> Double) {
            families.append(
                Family(family: family) { encoder, index in
                    series[index].windows.withUnsafeBufferPointer { counts in
                        for window in plan.profile(of: index).windows {
                            ProtobufMetrics.appendScalarMetric(
                                labelsOf[index].bytes, windowLabels[window].bytes, valueField: gauge,
                                value: value(counts[window]),
                                to: &encoder)
                        }
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
        perSeries(MetricsCatalog.inFlightKeys, perSeries(forensics.inFlightKeys))
        perSeries(MetricsCatalog.staleInFlightKeys, perSeries(forensics.staleInFlightKeys))
        let doubleExecutions = series.map(\.totals.doubleExecutions)
        let exemplars = series.map { forensics.doubleExecutionExemplars[$0.series] }
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
        families.append(retryDelay(series: series, forensics: forensics, plan: plan, labelsOf: labelsOf))
        return families
    }

    private static func retryDelay(
        series: [RollingWindows.SeriesWindows], forensics: MetricsRenderer.Forensics, plan: SeriesExportPlan,
        labelsOf: [BorrowedBytes]
    ) -> ProtobufMetricsStream.Family {
        let histograms = series.map { forensics.retryDelays[$0.series] }
        let empty = RetryDelayHistogram()
        let mode = plan.retryDelayProtobuf
        return ProtobufMetricsStream.Family(family: MetricsCatalog.retryDelay) { encoder, index in
            guard plan.profile(of: index).retryDelay else { return }
            let histogram = histograms[index] ?? empty
            encoder.nested(ProtobufMetrics.Field.familyMetric) { metric in
                metric.raw(labelsOf[index].bytes)
                metric.nested(ProtobufMetrics.Field.metricHistogram) { body in
                    ProtobufHistogram.appendTotals(count: histogram.count, sum: histogram.sum, to: &body)
                    if mode != .native {
                        let exemplars = histogram.exemplars
                        ProtobufHistogram.appendClassicBuckets(
                            counts: histogram.counts, bounds: RetryDelayHistogram.bounds,
                            exemplar: { exemplars.isEmpty ? nil : exemplars[$0].map { ($0.moment, $0.value) } }, to: &body)
                    }
                    if mode != .classic {
                        ProtobufHistogram.appendNativeBuckets(
                            counts: histogram.counts, indexes: RetryDelayNativeLayout.indexes,
                            schema: RetryDelayNativeLayout.schema, to: &body)
                        for exemplar in histogram.exemplars.compactMap({ $0 }) {
                            ProtobufMetrics.appendExemplar(exemplar.moment, value: exemplar.value, field: 16, to: &body)
                        }
                    }
                }
            }
        }
    }
}
