import DedupVitalsCore

/// What `GET /metrics` exports per series: the `metrics:` section of the configuration
/// (docs/reference/configuration.md#metrics). The default exports everything, as the service always has; a lean
/// configuration drops windows and the retry-delay histogram for series whose operators do not need them, which
/// cuts the scrape's bytes and time in proportion (docs/performance.md#scrape).
public struct MetricsExportConfig: Sendable, Equatable {
    /// How `dedup_retry_delay_seconds` is written in the protobuf format. The text formats cannot carry native
    /// histograms and always write the classic buckets.
    public enum ProtobufBuckets: String, Sendable, Equatable, CaseIterable {
        /// A native histogram with sparse buckets only: just the non-empty buckets are sent.
        case native
        /// The classic `le` buckets only, for protobuf scrapers without native-histogram support.
        case classic
        /// Both, as client libraries do while a deployment migrates (Prometheus ingests the native part, or both
        /// with `always_scrape_classic_histograms`).
        case both
    }

    /// Overrides for the series whose service and operation match.
    public struct SeriesRule: Sendable, Equatable {
        public var service: GlobPattern
        public var operation: GlobPattern
        /// nil: the section's `windows`.
        public var windows: [PromDuration]?
        /// nil: the section's `retry_delay`.
        public var retryDelay: Bool?

        public init(
            service: GlobPattern = .any, operation: GlobPattern = .any, windows: [PromDuration]? = nil, retryDelay: Bool? = nil
        ) {
            self.service = service
            self.operation = operation
            self.windows = windows
            self.retryDelay = retryDelay
        }

        public func matches(_ series: SeriesKey) -> Bool {
            service.matches(series.service) && operation.matches(series.operation)
        }
    }

    /// The windows of `dedup_duplicate_ratio` and `dedup_attempts`; nil: every configured window.
    public var windows: [PromDuration]?
    /// Whether `dedup_retry_delay_seconds` is exported.
    public var retryDelay = true
    public var retryDelayProtobuf = ProtobufBuckets.native
    /// The first rule that matches a series decides for it; a series no rule matches gets the section's values.
    public var series: [SeriesRule] = []

    public init() {}
}
