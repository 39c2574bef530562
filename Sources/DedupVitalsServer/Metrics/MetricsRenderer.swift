import DedupVitalsCore

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

    private func labels(_ item: RollingWindows.SeriesWindows, window: String) -> KeyValuePairs<String, String> {
        ["service": item.series.service, "operation": item.series.operation, "window": window]
    }

    func render(
        series: [RollingWindows.SeriesWindows], forensics: Forensics = Forensics(), counters: IngestCounters,
        format: ExpositionFormat, alerting: AlertingState? = nil
    ) -> [UInt8] {
        var writer = MetricsWriter(format: format, capacity: 4096 + series.count * 1400)
        let windowLabels = windows.map(ServiceConfig.windowLabel)

        writer.family("dedup_events_total", .counter, "Events received, by series and outcome.")
        for item in series {
            for outcome in Outcome.allCases {
                writer.sample(
                    "dedup_events_total",
                    ["service": item.series.service, "operation": item.series.operation, "outcome": outcome.name],
                    item.totals[outcome])
            }
        }

        writer.family("dedup_duplicate_ratio", .gauge, "Duplicate attempts (hit + in_flight) divided by attempts inside the window; 0 without attempts.")
        for item in series {
            for (index, label) in windowLabels.enumerated() {
                writer.sample("dedup_duplicate_ratio", labels(item, window: label), item.windows[index].duplicateRatio)
            }
        }
        writer.family("dedup_attempts", .gauge, "Attempts (miss + hit + in_flight + mismatch) inside the window.")
        for item in series {
            for (index, label) in windowLabels.enumerated() {
                writer.sample("dedup_attempts", labels(item, window: label), item.windows[index].attempts)
            }
        }

        writer.family("dedup_in_flight_keys", .gauge, "Keys with a miss and no completed yet (a held lock).")
        for item in series {
            writer.sample("dedup_in_flight_keys", ["service": item.series.service, "operation": item.series.operation], Int64(forensics.inFlightKeys[item.series] ?? 0))
        }
        writer.family("dedup_stale_in_flight_keys", .gauge, "In-flight keys whose miss is older than stale_in_flight_after.")
        for item in series {
            writer.sample("dedup_stale_in_flight_keys", ["service": item.series.service, "operation": item.series.operation], Int64(forensics.staleInFlightKeys[item.series] ?? 0))
        }
        writer.family("dedup_double_executions_total", .counter, "Keys that got a second miss inside the dedup window: the action ran twice.")
        for item in series {
            writer.sample("dedup_double_executions_total", ["service": item.series.service, "operation": item.series.operation], item.totals.doubleExecutions)
        }
        writer.family("dedup_late_retries_total", .counter, "Misses for a key first attempted longer ago than the dedup window.")
        for item in series {
            writer.sample("dedup_late_retries_total", ["service": item.series.service, "operation": item.series.operation], item.totals.lateRetries)
        }
        writer.family("dedup_suspected_narrow_keys_total", .counter, "Payload fingerprints seen under several different keys in a short span.")
        for item in series {
            writer.sample("dedup_suspected_narrow_keys_total", ["service": item.series.service, "operation": item.series.operation], item.totals.narrowKeys)
        }
        writer.family("dedup_retry_delay_seconds", .histogram, "Time from a key's first attempt to a duplicate attempt (age_ms, or since the first miss).")
        let bounds = RetryDelayHistogram.bounds.map(MetricsWriter.format) + ["+Inf"]
        for item in series {
            let histogram = forensics.retryDelays[item.series] ?? RetryDelayHistogram()
            for (bound, count) in zip(bounds, histogram.cumulativeCounts) {
                writer.sample("dedup_retry_delay_seconds_bucket", ["service": item.series.service, "operation": item.series.operation, "le": bound], count)
            }
            writer.sample("dedup_retry_delay_seconds_sum", ["service": item.series.service, "operation": item.series.operation], histogram.sum)
            writer.sample("dedup_retry_delay_seconds_count", ["service": item.series.service, "operation": item.series.operation], histogram.count)
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

        if let alerting { AlertMetricsSection(alerting: alerting).write(into: &writer) }

        writer.family("dedup_build_info", .gauge, "Build information; always 1.")
        writer.sample("dedup_build_info", ["version": version], Int64(1))

        writer.finish()
        return writer.output
    }
}
