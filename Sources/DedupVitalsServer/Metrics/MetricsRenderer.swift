import DedupVitalsCore
import NIOCore

/// Renders `GET /metrics` (contract §5) from a consistent snapshot of the live state.
struct MetricsRenderer {
    let windows: [PromDuration]
    let version: String

    /// Key-forensics figures for the exposition.
    struct Forensics {
        var inFlightKeys: [SeriesKey: Int] = [:]
        var staleInFlightKeys: [SeriesKey: Int] = [:]
        var retryDelays: [SeriesKey: RetryDelayHistogram] = [:]
        var trackedKeys = 0
        var evictions: Int64 = 0
    }

    func render(
        series: [RollingWindows.SeriesWindows], forensics: Forensics = Forensics(), counters: IngestCounters,
        format: ExpositionFormat, alerting: AlertingState? = nil
    ) -> ByteBuffer {
        // About 2.9 KB per series with the forensics families (4 windows, 19 histogram buckets); reserving it avoids
        // regrowing (and copying) a 30 MB buffer at 10,000 series. Untouched capacity costs no resident memory.
        var writer = MetricsWriter(format: format, capacity: 4096 + series.count * 3200)
        let windowLabels = windows.map(ServiceConfig.windowLabel)

        // The per-series families write thousands of samples. Every label set and sample name is escaped once into
        // one byte arena, and samples borrow slices of it (no allocation, retain or escaping per sample).
        var arena = LabelArena()
        let seriesLabels = series.map { arena.add(labels: ["service": $0.series.service, "operation": $0.series.operation]) }
        let outcomeLabels = Outcome.allCases.map { arena.add(labels: ["outcome": $0.name]) }
        let windowLabelSets = windowLabels.map { arena.add(labels: ["window": $0]) }
        let boundLabels = (RetryDelayHistogram.bounds.map(MetricsWriter.format) + ["+Inf"]).map { arena.add(labels: ["le": $0]) }
        let noLabels = arena.add(labels: [:])
        let names = [
            "dedup_events_total", "dedup_duplicate_ratio", "dedup_attempts", "dedup_in_flight_keys",
            "dedup_stale_in_flight_keys", "dedup_double_executions_total", "dedup_late_retries_total",
            "dedup_suspected_narrow_keys_total", "dedup_retry_delay_seconds_bucket", "dedup_retry_delay_seconds_sum",
            "dedup_retry_delay_seconds_count",
        ]
        let name = Dictionary(uniqueKeysWithValues: names.map { ($0, arena.add(name: $0)) })
        let histograms = series.map { forensics.retryDelays[$0.series] }

        arena.withSlices { slice in
            let labelsOf = seriesLabels.map(slice)
            let outcomes = Outcome.allCases.map { $0 }
            let outcomeSlices = outcomeLabels.map(slice)
            let windowSlices = windowLabelSets.map(slice)
            let boundSlices = boundLabels.map(slice)
            let none = slice(noLabels)

            writer.family("dedup_events_total", .counter, "Events received, by series and outcome.")
            let eventsTotal = slice(name["dedup_events_total"]!)
            for index in series.indices {
                let totals = series[index].totals
                for outcomeIndex in outcomes.indices {
                    writer.sample(eventsTotal, labelsOf[index], outcomeSlices[outcomeIndex], totals[outcomes[outcomeIndex]])
                }
            }

            writer.family("dedup_duplicate_ratio", .gauge, "Duplicate attempts (hit + in_flight) divided by attempts inside the window; 0 without attempts.")
            let ratioName = slice(name["dedup_duplicate_ratio"]!)
            for index in series.indices {
                series[index].windows.withUnsafeBufferPointer { counts in
                    for windowIndex in windowSlices.indices {
                        writer.sample(ratioName, labelsOf[index], windowSlices[windowIndex], counts[windowIndex].duplicateRatio)
                    }
                }
            }
            writer.family("dedup_attempts", .gauge, "Attempts (miss + hit + in_flight + mismatch) inside the window.")
            let attemptsName = slice(name["dedup_attempts"]!)
            for index in series.indices {
                series[index].windows.withUnsafeBufferPointer { counts in
                    for windowIndex in windowSlices.indices {
                        writer.sample(attemptsName, labelsOf[index], windowSlices[windowIndex], counts[windowIndex].attempts)
                    }
                }
            }

            /// One sample per series from `values` (parallel to `series`).
            func perSeries(_ family: String, _ values: [Int64]) {
                let familyName = slice(name[family]!)
                for index in series.indices {
                    writer.sample(familyName, labelsOf[index], none, values[index])
                }
            }
            writer.family("dedup_in_flight_keys", .gauge, "Keys with a miss and no completed yet (a held lock).")
            perSeries("dedup_in_flight_keys", forensics.inFlightKeys.isEmpty ? Array(repeating: 0, count: series.count) : series.map { Int64(forensics.inFlightKeys[$0.series] ?? 0) })
            writer.family("dedup_stale_in_flight_keys", .gauge, "In-flight keys whose miss is older than stale_in_flight_after.")
            perSeries("dedup_stale_in_flight_keys", forensics.staleInFlightKeys.isEmpty ? Array(repeating: 0, count: series.count) : series.map { Int64(forensics.staleInFlightKeys[$0.series] ?? 0) })
            writer.family("dedup_double_executions_total", .counter, "Keys that got a second miss inside the dedup window: the action ran twice.")
            perSeries("dedup_double_executions_total", series.map(\.totals.doubleExecutions))
            writer.family("dedup_late_retries_total", .counter, "Misses for a key first attempted longer ago than the dedup window.")
            perSeries("dedup_late_retries_total", series.map(\.totals.lateRetries))
            writer.family("dedup_suspected_narrow_keys_total", .counter, "Payload fingerprints seen under several different keys in a short span.")
            perSeries("dedup_suspected_narrow_keys_total", series.map(\.totals.narrowKeys))

            writer.family("dedup_retry_delay_seconds", .histogram, "Time from a key's first attempt to a duplicate attempt (age_ms, or since the first miss).")
            let (bucketName, sumName, countName) = (
                slice(name["dedup_retry_delay_seconds_bucket"]!), slice(name["dedup_retry_delay_seconds_sum"]!),
                slice(name["dedup_retry_delay_seconds_count"]!)
            )
            let empty = RetryDelayHistogram()
            for index in series.indices {
                let labels = labelsOf[index]
                let histogram = histograms[index] ?? empty
                histogram.counts.withUnsafeBufferPointer { counts in
                    var cumulative: Int64 = 0
                    for bucket in boundSlices.indices {
                        cumulative += counts[bucket]
                        writer.sample(bucketName, labels, boundSlices[bucket], cumulative)
                    }
                }
                writer.sample(sumName, labels, none, histogram.sum)
                writer.sample(countName, labels, none, histogram.count)
            }
        }
        writer.family("dedup_tracked_keys", .gauge, "Idempotency keys tracked for forensics (by keyed hash).")
        writer.sample("dedup_tracked_keys", [:], Int64(forensics.trackedKeys))
        writer.family("dedup_key_evictions_total", .counter, "Tracked keys evicted because max_tracked_keys was reached.")
        writer.sample("dedup_key_evictions_total", [:], forensics.evictions)

        writer.family("dedup_ingest_requests_total", .counter, "Answered ingest requests, by HTTP status code.")
        for (code, count) in counters.requestsByCode.sorted(by: { $0.key < $1.key }) {
            writer.sample("dedup_ingest_requests_total", ["code": String(code)], count)
        }

        writer.family("dedup_ingest_events_total", .counter, "Ingested events by result: accepted (committed), rejected, replayed (Idempotency-Key retries).")
        for result in IngestCounters.EventResult.allCases {
            writer.sample("dedup_ingest_events_total", ["result": result.rawValue], counters.events(result))
        }

        counters.limits.write(to: &writer)
        if let alerting { AlertMetricsSection(alerting: alerting).write(into: &writer) }

        writer.family("dedup_build_info", .gauge, "Build information; always 1.")
        writer.sample("dedup_build_info", ["version": version], Int64(1))

        writer.finish()
        return writer.finished()
    }
}

/// The label sets and sample names of one render, escaped once into one byte array; the writer borrows slices.
private struct LabelArena {
    private var bytes: [UInt8] = []

    /// `label="escaped value",…` (no braces).
    mutating func add(labels: KeyValuePairs<String, String>) -> Range<Int> {
        append(MetricsWriter.LabelSet(labels).bytes)
    }

    mutating func add(name: String) -> Range<Int> { append(Array(name.utf8)) }

    private mutating func append(_ added: [UInt8]) -> Range<Int> {
        let start = bytes.count
        bytes.append(contentsOf: added)
        return start..<bytes.count
    }

    /// Runs `body` with a function from a range to its bytes, valid inside `body` only.
    func withSlices<T>(_ body: ((Range<Int>) -> UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try bytes.withUnsafeBytes { base in try body { UnsafeRawBufferPointer(rebasing: base[$0]) } }
    }
}
