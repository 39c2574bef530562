/// Every metric family `GET /metrics` exports, in exposition order. The one place where a family's name, type,
/// help, unit and labels are written; the README's metrics table, `alerts/prometheus/exported-metrics.txt` and the
/// dashboards are checked against it by a test.
///
/// To add a family: declare it here (and in ``all``), write its samples where its source is rendered
/// (``MetricsRenderer`` for per-series families, a section such as ``AlertMetricsSection`` or a counters type for
/// the others), then add it to the README table and `exported-metrics.txt`; the catalog test says what is missing.
enum MetricsCatalog {
    static let seriesLabels = ["service", "operation"]

    // MARK: Per series

    static let events = MetricFamily(
        "dedup_events_total", .counter, labels: seriesLabels + ["outcome"], help: "Events received, by series and outcome.")
    static let duplicateRatio = MetricFamily(
        "dedup_duplicate_ratio", .gauge, labels: seriesLabels + ["window"],
        help: "Duplicate attempts (hit + in_flight) divided by attempts inside the window; 0 without attempts.")
    static let attempts = MetricFamily(
        "dedup_attempts", .gauge, labels: seriesLabels + ["window"],
        help: "Attempts (miss + hit + in_flight + mismatch) inside the window.")
    static let inFlightKeys = MetricFamily(
        "dedup_in_flight_keys", .gauge, labels: seriesLabels, help: "Keys with a miss and no completed yet (a held lock).")
    static let staleInFlightKeys = MetricFamily(
        "dedup_stale_in_flight_keys", .gauge, labels: seriesLabels,
        help: "In-flight keys whose miss is older than stale_in_flight_after.")
    static let doubleExecutions = MetricFamily(
        "dedup_double_executions_total", .counter, labels: seriesLabels,
        help: "Keys that got a second miss inside the dedup window: the action ran twice.")
    static let lateRetries = MetricFamily(
        "dedup_late_retries_total", .counter, labels: seriesLabels,
        help: "Misses for a key first attempted longer ago than the dedup window.")
    static let narrowKeys = MetricFamily(
        "dedup_suspected_narrow_keys_total", .counter, labels: seriesLabels,
        help: "Payload fingerprints seen under several different keys in a short span.")
    static let retryDelay = MetricFamily(
        "dedup_retry_delay_seconds", .histogram, unit: "seconds", labels: seriesLabels,
        help: "Time from a key's first attempt to a duplicate attempt (age_ms, or since the first miss).")

    // MARK: Process-wide

    static let trackedKeys = MetricFamily(
        "dedup_tracked_keys", .gauge, help: "Idempotency keys tracked for forensics (by keyed hash).")
    static let keyEvictions = MetricFamily(
        "dedup_key_evictions_total", .counter, help: "Tracked keys evicted because max_tracked_keys was reached.")
    static let ingestRequests = MetricFamily(
        "dedup_ingest_requests_total", .counter, labels: ["code"], help: "Answered ingest requests, by HTTP status code.")
    static let ingestEvents = MetricFamily(
        "dedup_ingest_events_total", .counter, labels: ["result"],
        help: "Ingested events by result: accepted (committed), rejected, replayed (Idempotency-Key retries).")
    static let otlpIgnoredLogRecords = MetricFamily(
        "dedup_otlp_ignored_log_records_total", .counter,
        help: "OTLP log records received on /v1/logs that are not decisions (no dedup_vitals.decision event name).")
    static let seriesLimitRejections = MetricFamily(
        "dedup_series_limit_rejections_total", .counter,
        help: "Ingest requests refused (429) because they would create a series beyond limits.max_series.")
    static let rateLimitRejections = MetricFamily(
        "dedup_rate_limit_rejections_total", .counter, help: "Ingest requests refused (429) by a token's rate limit.")
    static let overloadRejections = MetricFamily(
        "dedup_ingest_overload_rejections_total", .counter,
        help: "Ingest requests refused (503) because the in-flight request or byte bound was reached.")
    static let alertsFiring = MetricFamily(
        "dedup_alerts_firing", .gauge, labels: ["alertname", "service", "operation", "severity"],
        help: "Alert instances now firing (1 per instance).")
    static let webhookDeliveries = MetricFamily(
        "dedup_webhook_deliveries_total", .counter, labels: ["receiver", "result"],
        help: "Notification delivery attempts by receiver and result (success, retry, failed).")
    static let webhookQueueDepth = MetricFamily(
        "dedup_webhook_queue_depth", .gauge, labels: ["receiver"], help: "Notifications waiting for delivery, by receiver.")
    static let internalErrors = MetricFamily(
        "dedup_internal_errors_total", .counter, labels: ["operation"],
        help: "Errors handled without failing a request (each also logged), by operation.")
    static let webhookDeliveryDuration = MetricFamily(
        "dedup_webhook_delivery_duration_seconds", .histogram, unit: "seconds", labels: ["receiver"],
        help: "Time of one notification delivery attempt (request sent to answer or error), by receiver.")

    // MARK: The service itself

    static let httpRequestDuration = MetricFamily(
        "dedup_http_request_duration_seconds", .histogram, unit: "seconds", labels: ["route", "status_class"],
        help:
            "Time from routing an HTTP request until its answer is ready (a streamed one: written), by route template and "
            + "status class.")
    static let commitGroupSize = MetricFamily(
        "dedup_commit_group_size", .histogram, help: "Ingest requests committed together in one transaction (group commit).")
    static let commitDuration = MetricFamily(
        "dedup_commit_duration_seconds", .histogram, unit: "seconds",
        help: "Time of one group commit: the SQLite transaction and applying it to the in-memory state.")
    static let durableLatency = MetricFamily(
        "dedup_ingest_durable_latency_seconds", .histogram, unit: "seconds",
        help: "Time from a decoded ingest batch entering the write path until it is durable and applied.")
    static let databaseSize = MetricFamily(
        "dedup_database_size_bytes", .gauge, unit: "bytes", help: "Size of the SQLite database file.")
    static let walSize = MetricFamily(
        "dedup_wal_size_bytes", .gauge, unit: "bytes", help: "Size of the SQLite write-ahead log file (-wal).")
    static let ruleEvaluationDuration = MetricFamily(
        "dedup_rule_evaluation_duration_seconds", .histogram, unit: "seconds",
        help: "Time of one evaluation of all alert rules (including storing the alert state).")
    static let ruleEvaluations = MetricFamily(
        "dedup_rule_evaluations_total", .counter, help: "Evaluations of the alert rules.")
    static let ruleEvaluationFailures = MetricFamily(
        "dedup_rule_evaluation_failures_total", .counter,
        help: "Evaluations of the alert rules that failed (the alert state could not be stored).")
    static let reloadSuccessful = MetricFamily(
        "dedup_config_last_reload_successful", .gauge,
        help: "Whether the last configuration reload succeeded (1) or failed and the running configuration was kept (0).")
    static let reloadSuccessTimestamp = MetricFamily(
        "dedup_config_last_reload_success_timestamp_seconds", .gauge, unit: "seconds",
        help: "Time of the last successful configuration load or reload, in seconds since the epoch.")
    static let processCPU = MetricFamily(
        "process_cpu_seconds_total", .counter, unit: "seconds", help: "Total user and system CPU time spent in seconds.")
    static let processResidentMemory = MetricFamily(
        "process_resident_memory_bytes", .gauge, unit: "bytes", help: "Resident memory size in bytes.")
    static let processVirtualMemory = MetricFamily(
        "process_virtual_memory_bytes", .gauge, unit: "bytes", help: "Virtual memory size in bytes.")
    static let processOpenFDs = MetricFamily("process_open_fds", .gauge, help: "Number of open file descriptors.")
    static let processMaxFDs = MetricFamily("process_max_fds", .gauge, help: "Maximum number of open file descriptors.")
    static let processStartTime = MetricFamily(
        "process_start_time_seconds", .gauge, unit: "seconds",
        help: "Start time of the process since unix epoch in seconds.")

    static let buildInfo = MetricFamily(
        "dedup_build_info", .gauge, labels: ["version"], help: "Build information; always 1.")

    /// Every family, in exposition order: the per-series families, then the process-wide ones, then those about the
    /// service itself.
    static let all: [MetricFamily] = [
        events, duplicateRatio, attempts, inFlightKeys, staleInFlightKeys, doubleExecutions, lateRetries, narrowKeys,
        retryDelay, trackedKeys, keyEvictions, ingestRequests, ingestEvents, otlpIgnoredLogRecords, seriesLimitRejections,
        rateLimitRejections, overloadRejections, alertsFiring, webhookDeliveries, webhookQueueDepth, webhookDeliveryDuration,
        internalErrors, httpRequestDuration, commitGroupSize, commitDuration, durableLatency, databaseSize, walSize,
        ruleEvaluationDuration, ruleEvaluations, ruleEvaluationFailures, reloadSuccessful, reloadSuccessTimestamp, processCPU,
        processResidentMemory, processVirtualMemory, processOpenFDs, processMaxFDs, processStartTime, buildInfo,
    ]
}
