import DedupVitalsCore

/// Renders `GET /metrics` (contract §5) from a consistent snapshot of the live state.
struct MetricsRenderer {
    let windows: [PromDuration]
    let version: String

    func render(series: [RollingWindows.SeriesWindows], counters: IngestCounters, format: ExpositionFormat) -> [UInt8] {
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
                writer.sample(
                    "dedup_duplicate_ratio",
                    ["service": item.series.service, "operation": item.series.operation, "window": label],
                    item.windows[index].duplicateRatio)
            }
        }

        writer.family("dedup_attempts", .gauge, "Attempts (miss + hit + in_flight + mismatch) inside the window.")
        for item in series {
            for (index, label) in windowLabels.enumerated() {
                writer.sample(
                    "dedup_attempts",
                    ["service": item.series.service, "operation": item.series.operation, "window": label],
                    item.windows[index].attempts)
            }
        }

        writer.family("dedup_ingest_requests_total", .counter, "Answered ingest requests, by HTTP status code.")
        for (code, count) in counters.requestsByCode.sorted(by: { $0.key < $1.key }) {
            writer.sample("dedup_ingest_requests_total", ["code": String(code)], count)
        }

        writer.family("dedup_ingest_events_total", .counter, "Ingested events by result: accepted (committed), rejected, replayed (Idempotency-Key retries).")
        for result in IngestCounters.EventResult.allCases {
            writer.sample("dedup_ingest_events_total", ["result": result.rawValue], counters.events(result))
        }

        writer.family("dedup_build_info", .gauge, "Build information; always 1.")
        writer.sample("dedup_build_info", ["version": version], Int64(1))

        writer.finish()
        return writer.output
    }
}
