import DedupVitalsCore
import NIOCore

/// Renders `GET /metrics` (docs/reference/metrics.md) from a consistent snapshot of the live state.
///
/// The exposition is produced as a ``MetricsStream`` of ~256 KB chunks that the response writes as they come: at
/// 10,000 series it is tens of MB, and one buffer of that size would be page-faulted in on every scrape (and stay in
/// the service's memory), where a chunk is reused memory and the socket sends one while the next is rendered.
struct MetricsRenderer {
    let windows: [PromDuration]
    let version: String
    /// What is exported per series (the `metrics:` section); the default exports everything.
    var export = MetricsExportConfig()

    /// Key-forensics figures for the exposition.
    struct Forensics: Sendable {
        var staleInFlightKeys: [SeriesKey: Int] = [:]
        var trackedKeys = 0
        var evictions: Int64 = 0
        /// The in-flight keys, retry delays and latest traced double executions (the exemplars of
        /// `dedup_double_executions_total`) of the series being rendered, in their order, as key forensics looked them
        /// up (``KeyForensics/figures(of:)``); nil when there are none.
        var figures: KeyForensics.SeriesFigures?

        /// The in-flight keys of each series, in order.
        func inFlightKeys(of series: [RollingWindows.SeriesWindows]) -> [Int64] {
            figures?.inFlightKeys.map(Int64.init) ?? Array(repeating: 0, count: series.count)
        }

        /// The cumulative retry-delay histogram of each series, in order.
        func retryDelays(of series: [RollingWindows.SeriesWindows]) -> [RetryDelayHistogram?] {
            figures?.retryDelays ?? Array(repeating: nil, count: series.count)
        }

        /// The latest traced double execution of each series, in order.
        func doubleExecutionExemplars(of series: [RollingWindows.SeriesWindows]) -> [TracedMoment?] {
            figures?.doubleExecutionExemplars ?? Array(repeating: nil, count: series.count)
        }
    }

    /// The whole exposition in one buffer (tests, benchmarks, tools).
    func render(
        series: [RollingWindows.SeriesWindows], forensics: Forensics = Forensics(), counters: IngestCounters,
        format: ExpositionFormat, alerting: AlertingState? = nil, errors: InternalErrors = InternalErrors(),
        selfMetrics: SelfMetrics? = nil
    ) -> ByteBuffer {
        var stream = self.stream(
            series: series, forensics: forensics, counters: counters, format: format, alerting: alerting, errors: errors,
            selfMetrics: selfMetrics)
        return Self.collect(&stream, capacity: 4096 + series.count * 3200)
    }

    /// The whole protobuf exposition in one buffer (tests, benchmarks, tools).
    func renderProtobuf(
        series: [RollingWindows.SeriesWindows], forensics: Forensics = Forensics(), counters: IngestCounters,
        alerting: AlertingState? = nil, errors: InternalErrors = InternalErrors(), selfMetrics: SelfMetrics? = nil
    ) -> ByteBuffer {
        var stream = protobufStream(
            series: series, forensics: forensics, counters: counters, alerting: alerting, errors: errors,
            selfMetrics: selfMetrics)
        return Self.collect(&stream, capacity: 4096 + series.count * 1200)
    }

    private static func collect(_ stream: inout some MetricsChunks, capacity: Int) -> ByteBuffer {
        var output = ByteBufferAllocator().buffer(capacity: capacity)
        while var chunk = stream.next() { output.writeBuffer(&chunk) }
        return output
    }

    /// The exposition in chunks. The counters and alert families (a few lines) are read now; the per-series
    /// families are rendered from `series` as the chunks are taken.
    func stream(
        series: [RollingWindows.SeriesWindows], forensics: Forensics = Forensics(), counters: IngestCounters,
        format: ExpositionFormat, alerting: AlertingState? = nil, errors: InternalErrors = InternalErrors(),
        selfMetrics: SelfMetrics? = nil
    ) -> MetricsStream {
        var tail = MetricsWriter(format: format, capacity: 4096)
        writeTail(
            into: &tail, forensics: forensics, counters: counters, alerting: alerting, errors: errors, selfMetrics: selfMetrics)
        tail.finish()
        let arena = LabelArena()
        return MetricsStream(
            families: Self.seriesFamilies(
                series: series, forensics: forensics, windows: windows, plan: plan(series), arena: arena),
            seriesCount: series.count, format: format, labels: arena, tail: tail.finished())
    }

    /// The exposition in the protobuf format (`application/vnd.google.protobuf;
    /// proto=io.prometheus.client.MetricFamily; encoding=delimited`), in chunks: the same families and samples as
    /// the text formats, with `dedup_retry_delay_seconds` as a native histogram (``ProtobufSeriesFamilies``).
    func protobufStream(
        series: [RollingWindows.SeriesWindows], forensics: Forensics = Forensics(), counters: IngestCounters,
        alerting: AlertingState? = nil, errors: InternalErrors = InternalErrors(), selfMetrics: SelfMetrics? = nil
    ) -> ProtobufMetricsStream {
        var tail = ProtobufSectionWriter()
        writeTail(
            into: &tail, forensics: forensics, counters: counters, alerting: alerting, errors: errors, selfMetrics: selfMetrics)
        let arena = LabelArena()
        return ProtobufMetricsStream(
            families: ProtobufSeriesFamilies.make(
                series: series, forensics: forensics, windows: windows, plan: plan(series), arena: arena),
            seriesCount: series.count, labels: arena, tail: tail.finished())
    }

    /// The families that are not per series, in exposition order, into either format's writer.
    private func writeTail(
        into tail: inout some MetricsSink, forensics: Forensics, counters: IngestCounters, alerting: AlertingState?,
        errors: InternalErrors, selfMetrics: SelfMetrics?
    ) {
        tail.family(MetricsCatalog.trackedKeys)
        tail.sample(MetricsCatalog.trackedKeys, Int64(forensics.trackedKeys))
        tail.family(MetricsCatalog.keyEvictions)
        tail.sample(MetricsCatalog.keyEvictions, forensics.evictions)
        tail.family(MetricsCatalog.ingestRequests)
        for (code, count) in counters.requestsByCode.sorted(by: { $0.key < $1.key }) {
            tail.sample(MetricsCatalog.ingestRequests, [String(code)], count)
        }
        tail.family(MetricsCatalog.ingestEvents)
        for result in IngestCounters.EventResult.allCases {
            tail.sample(MetricsCatalog.ingestEvents, [result.rawValue], counters.events(result))
        }
        tail.family(MetricsCatalog.otlpIgnoredLogRecords)
        tail.sample(MetricsCatalog.otlpIgnoredLogRecords, counters.ignoredLogRecords)
        counters.limits.write(to: &tail)
        if let alerting { AlertMetricsSection(alerting: alerting).write(into: &tail) }
        errors.write(to: &tail)
        SelfMetricsSection(metrics: selfMetrics).write(into: &tail)
        tail.family(MetricsCatalog.buildInfo)
        tail.sample(MetricsCatalog.buildInfo, [version], Int64(1))
    }

    /// What this scrape exports of each series.
    func plan(_ series: [RollingWindows.SeriesWindows]) -> SeriesExportPlan {
        SeriesExportPlan(config: export, windows: windows, series: export.series.isEmpty ? [] : series.map(\.series))
    }

    /// The per-series families, in exposition order.
    private static func seriesFamilies(
        series: [RollingWindows.SeriesWindows], forensics: Forensics, windows: [PromDuration], plan: SeriesExportPlan,
        arena: LabelArena
    ) -> [MetricsStream.Family] {
        // Every label set and sample name is escaped once into the arena; samples borrow slices of it (no
        // allocation, retain or escaping per sample).
        let labelsOf = series.map { arena.add(labels: ["service": $0.series.service, "operation": $0.series.operation]) }
        let outcomes = Outcome.allCases.map { $0 }
        let outcomeLabels = outcomes.map { arena.add(labels: ["outcome": $0.name]) }
        let windowLabels = windows.map { arena.add(labels: ["window": ServiceConfig.windowLabel($0)]) }
        let boundLabels = (RetryDelayHistogram.bounds.map(MetricsWriter.format) + ["+Inf"]).map { arena.add(labels: ["le": $0]) }
        let none = arena.add(labels: [:])

        typealias Family = MetricsStream.Family
        var families: [Family] = []
        let eventsTotal = arena.add(name: MetricsCatalog.events.name)
        families.append(
            Family(MetricsCatalog.events) { writer, index in
                let totals = series[index].totals
                for outcomeIndex in outcomes.indices {
                    writer.sample(eventsTotal, labelsOf[index], outcomeLabels[outcomeIndex], totals[outcomes[outcomeIndex]])
                }
            })

        let ratioName = arena.add(name: MetricsCatalog.duplicateRatio.name)
        families.append(
            Family(MetricsCatalog.duplicateRatio) { writer, index in
                series[index].windows.withUnsafeBufferPointer { counts in
                    for windowIndex in plan.profile(of: index).windows {
                        writer.sample(ratioName, labelsOf[index], windowLabels[windowIndex], counts[windowIndex].duplicateRatio)
                    }
                }
            })
        let attemptsName = arena.add(name: MetricsCatalog.attempts.name)
        families.append(
            Family(MetricsCatalog.attempts) { writer, index in
                series[index].windows.withUnsafeBufferPointer { counts in
                    for windowIndex in plan.profile(of: index).windows {
                        writer.sample(attemptsName, labelsOf[index], windowLabels[windowIndex], counts[windowIndex].attempts)
                    }
                }
            })

        /// A family of one sample per series, from `values` (parallel to `series`).
        func perSeries(_ family: MetricFamily, _ values: [Int64]) {
            let sampleName = arena.add(name: family.name)
            families.append(
                Family(family) { writer, index in
                    writer.sample(sampleName, labelsOf[index], none, values[index])
                })
        }
        func perSeries(_ counts: [SeriesKey: Int]) -> [Int64] {
            counts.isEmpty ? Array(repeating: 0, count: series.count) : series.map { Int64(counts[$0.series] ?? 0) }
        }
        perSeries(MetricsCatalog.inFlightKeys, forensics.inFlightKeys(of: series))
        perSeries(MetricsCatalog.staleInFlightKeys, perSeries(forensics.staleInFlightKeys))
        let doubleExecutionsName = arena.add(name: MetricsCatalog.doubleExecutions.name)
        let doubleExecutions = series.map(\.totals.doubleExecutions)
        let doubleExecutionExemplars = forensics.doubleExecutionExemplars(of: series)
        families.append(
            Family(MetricsCatalog.doubleExecutions) { writer, index in
                writer.sample(
                    doubleExecutionsName, labelsOf[index], none, doubleExecutions[index],
                    exemplar: doubleExecutionExemplars[index].map { MetricsWriter.Exemplar($0, value: 1) })
            })
        perSeries(MetricsCatalog.lateRetries, series.map(\.totals.lateRetries))
        perSeries(MetricsCatalog.narrowKeys, series.map(\.totals.narrowKeys))

        let retryDelay = MetricsCatalog.retryDelay
        let (bucketName, sumName, countName) = (
            arena.add(name: retryDelay.name + "_bucket"), arena.add(name: retryDelay.name + "_sum"),
            arena.add(name: retryDelay.name + "_count")
        )
        let histograms = forensics.retryDelays(of: series)
        let empty = RetryDelayHistogram()
        families.append(
            Family(retryDelay) { writer, index in
                guard plan.profile(of: index).retryDelay else { return }
                let labels = labelsOf[index]
                let histogram = histograms[index] ?? empty
                let exemplars = histogram.exemplars
                histogram.withCounts { counts in
                    var cumulative: Int64 = 0
                    for bucket in boundLabels.indices {
                        cumulative += counts[bucket]
                        writer.sample(
                            bucketName, labels, boundLabels[bucket], cumulative,
                            exemplar: exemplars.isEmpty
                                ? nil : exemplars[bucket].map { MetricsWriter.Exemplar($0.moment, value: $0.value) })
                    }
                }
                writer.sample(sumName, labels, none, histogram.sum)
                writer.sample(countName, labels, none, histogram.count)
            })
        return families
    }
}

/// Bytes inside a ``LabelArena``, valid while the arena lives (the ``MetricsStream`` holds it).
struct BorrowedBytes: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer
}

/// The label sets and sample names of one exposition, escaped once into memory that lives as long as the arena;
/// samples borrow slices of it.
final class LabelArena: @unchecked Sendable {
    // Written while the families are set up, then only read (by one stream at a time).
    private var blocks: [UnsafeMutableRawBufferPointer] = []
    private var used = 0

    /// `label="escaped value",…` (no braces).
    func add(labels: KeyValuePairs<String, String>) -> BorrowedBytes {
        add(bytes: MetricsWriter.LabelSet(labels).bytes)
    }

    func add(name: String) -> BorrowedBytes { add(bytes: Array(name.utf8)) }

    func add(bytes: [UInt8]) -> BorrowedBytes {
        bytes.withUnsafeBytes { add(raw: $0) }
    }

    func add(raw bytes: UnsafeRawBufferPointer) -> BorrowedBytes {
        if blocks.isEmpty || used + bytes.count > blocks[blocks.count - 1].count {
            blocks.append(.allocate(byteCount: max(64 * 1024, bytes.count), alignment: 8))
            used = 0
        }
        let target = UnsafeMutableRawBufferPointer(rebasing: blocks[blocks.count - 1][used..<used + bytes.count])
        target.copyMemory(from: bytes)
        used += bytes.count
        return BorrowedBytes(bytes: UnsafeRawBufferPointer(target))
    }

    deinit {
        for block in blocks { block.deallocate() }
    }
}
