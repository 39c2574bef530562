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

        // The per-series families write thousands of samples: each series' labels are escaped once, and the
        // outcome, window and `le` labels once per render.
        let seriesLabels = series.map { MetricsWriter.LabelSet(["service": $0.series.service, "operation": $0.series.operation]) }
        let outcomeLabels = Outcome.allCases.map { MetricsWriter.LabelSet(["outcome": $0.name]) }
        let windowLabelSets = windowLabels.map { MetricsWriter.LabelSet(["window": $0]) }
        let noLabels = MetricsWriter.LabelSet([:])

        writer.family("dedup_events_total", .counter, "Events received, by series and outcome.")
        let eventsTotal = Array("dedup_events_total".utf8)
        for (item, labels) in zip(series, seriesLabels) {
            for (outcome, outcomeLabel) in zip(Outcome.allCases, outcomeLabels) {
                writer.sample(eventsTotal, labels, outcomeLabel, item.totals[outcome])
            }
        }

        writer.family("dedup_duplicate_ratio", .gauge, "Duplicate attempts (hit + in_flight) divided by attempts inside the window; 0 without attempts.")
        let duplicateRatio = Array("dedup_duplicate_ratio".utf8)
        for (item, labels) in zip(series, seriesLabels) {
            for (index, windowLabel) in windowLabelSets.enumerated() {
                writer.sample(duplicateRatio, labels, windowLabel, item.windows[index].duplicateRatio)
            }
        }
        writer.family("dedup_attempts", .gauge, "Attempts (miss + hit + in_flight + mismatch) inside the window.")
        let attempts = Array("dedup_attempts".utf8)
        for (item, labels) in zip(series, seriesLabels) {
            for (index, windowLabel) in windowLabelSets.enumerated() {
                writer.sample(attempts, labels, windowLabel, item.windows[index].attempts)
            }
        }

        /// One sample per series from `value`.
        func perSeries(_ name: String, _ value: (RollingWindows.SeriesWindows) -> Int64) {
            let name = Array(name.utf8)
            for (item, labels) in zip(series, seriesLabels) {
                writer.sample(name, labels, noLabels, value(item))
            }
        }
        writer.family("dedup_in_flight_keys", .gauge, "Keys with a miss and no completed yet (a held lock).")
        perSeries("dedup_in_flight_keys") { Int64(forensics.inFlightKeys[$0.series] ?? 0) }
        writer.family("dedup_stale_in_flight_keys", .gauge, "In-flight keys whose miss is older than stale_in_flight_after.")
        perSeries("dedup_stale_in_flight_keys") { Int64(forensics.staleInFlightKeys[$0.series] ?? 0) }
        writer.family("dedup_double_executions_total", .counter, "Keys that got a second miss inside the dedup window: the action ran twice.")
        perSeries("dedup_double_executions_total") { $0.totals.doubleExecutions }
        writer.family("dedup_late_retries_total", .counter, "Misses for a key first attempted longer ago than the dedup window.")
        perSeries("dedup_late_retries_total") { $0.totals.lateRetries }
        writer.family("dedup_suspected_narrow_keys_total", .counter, "Payload fingerprints seen under several different keys in a short span.")
        perSeries("dedup_suspected_narrow_keys_total") { $0.totals.narrowKeys }

        writer.family("dedup_retry_delay_seconds", .histogram, "Time from a key's first attempt to a duplicate attempt (age_ms, or since the first miss).")
        let boundLabels = (RetryDelayHistogram.bounds.map(MetricsWriter.format) + ["+Inf"]).map { MetricsWriter.LabelSet(["le": $0]) }
        let (bucketName, sumName, countName) = (
            Array("dedup_retry_delay_seconds_bucket".utf8), Array("dedup_retry_delay_seconds_sum".utf8),
            Array("dedup_retry_delay_seconds_count".utf8)
        )
        for (item, labels) in zip(series, seriesLabels) {
            let histogram = forensics.retryDelays[item.series] ?? RetryDelayHistogram()
            for (boundLabel, count) in zip(boundLabels, histogram.cumulativeCounts) {
                writer.sample(bucketName, labels, boundLabel, count)
            }
            writer.sample(sumName, labels, noLabels, histogram.sum)
            writer.sample(countName, labels, noLabels, histogram.count)
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
        return writer.output
    }
}
