/// One series of `/v1/summary`: totals, counts per window, and key forensics when the service reports them.
public struct SeriesSummary: Decodable, Sendable, Equatable, Identifiable {
    public var service: String
    public var operation: String
    /// RFC 3339.
    public var lastSeen: String?
    public var totals: WindowCounts
    /// By window label (`1m`, `5m`, ...).
    public var windows: [String: WindowCounts]
    /// Keys with a `miss` and no `completed` yet; nil when the service does not report it.
    public var inFlightKeys: Int64?
    /// Of those, keys older than the stale threshold; nil when not reported.
    public var staleInFlightKeys: Int64?
    /// Keys that got a second `miss` inside the dedup window; nil when not reported.
    public var doubleExecutions: Int64?
    /// Misses for keys last seen longer ago than the dedup window; nil when not reported.
    public var lateRetries: Int64?
    /// Payload fingerprints seen under several keys; nil when not reported.
    public var suspectedNarrowKeys: Int64?
    /// Retry delays of duplicates; nil when not reported.
    public var retryDelay: RetryDelay?
    /// The callers with the highest duplicate ratio; empty when not reported.
    public var topClients: [ClientFigures] = []

    /// Quantiles of the delay between a key's first attempt and its duplicates.
    public struct RetryDelay: Decodable, Sendable, Equatable {
        public var p50Seconds: Double?
        public var p99Seconds: Double?
        public var dedupWindowSeconds: Double?

        public init(p50Seconds: Double?, p99Seconds: Double?, dedupWindowSeconds: Double?) {
            self.p50Seconds = p50Seconds
            self.p99Seconds = p99Seconds
            self.dedupWindowSeconds = dedupWindowSeconds
        }

        enum CodingKeys: String, CodingKey {
            case p50Seconds = "p50_seconds"
            case p99Seconds = "p99_seconds"
            case dedupWindowSeconds = "dedup_window_seconds"
        }
    }

    /// One caller's attempts and duplicates.
    public struct ClientFigures: Decodable, Sendable, Equatable {
        public var client: String
        public var attempts: Int64
        public var duplicates: Int64
        public var duplicateRatio: Double

        public init(client: String, attempts: Int64, duplicates: Int64, duplicateRatio: Double) {
            self.client = client
            self.attempts = attempts
            self.duplicates = duplicates
            self.duplicateRatio = duplicateRatio
        }

        enum CodingKeys: String, CodingKey {
            case client, attempts, duplicates
            case duplicateRatio = "duplicate_ratio"
        }
    }

    public init(
        service: String, operation: String, lastSeen: String? = nil, totals: WindowCounts = .zero,
        windows: [String: WindowCounts] = [:], inFlightKeys: Int64? = nil, staleInFlightKeys: Int64? = nil,
        doubleExecutions: Int64? = nil
    ) {
        self.service = service
        self.operation = operation
        self.lastSeen = lastSeen
        self.totals = totals
        self.windows = windows
        self.inFlightKeys = inFlightKeys
        self.staleInFlightKeys = staleInFlightKeys
        self.doubleExecutions = doubleExecutions
    }

    /// `service/operation`.
    public var id: String { "\(service)/\(operation)" }

    /// Whether the service reports key forensics for this series.
    public var hasForensics: Bool { inFlightKeys != nil || staleInFlightKeys != nil || doubleExecutions != nil }

    enum CodingKeys: String, CodingKey {
        case service, operation
        case lastSeen = "last_seen"
        case totals, windows
        case inFlightKeys = "in_flight_keys"
        case staleInFlightKeys = "stale_in_flight_keys"
        case doubleExecutions = "double_executions"
        case lateRetries = "late_retries"
        case suspectedNarrowKeys = "suspected_narrow_keys"
        case retryDelay = "retry_delay"
        case topClients = "top_clients"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        service = try container.decode(String.self, forKey: .service)
        operation = try container.decode(String.self, forKey: .operation)
        lastSeen = try? container.decodeIfPresent(String.self, forKey: .lastSeen)
        totals = try container.decodeIfPresent(WindowCounts.self, forKey: .totals) ?? .zero
        windows = try container.decodeIfPresent([String: WindowCounts].self, forKey: .windows) ?? [:]
        // Forensics are optional and tolerated in any shape: a field that is not a number reads as absent.
        inFlightKeys = try? container.decodeIfPresent(Int64.self, forKey: .inFlightKeys)
        staleInFlightKeys = try? container.decodeIfPresent(Int64.self, forKey: .staleInFlightKeys)
        doubleExecutions = try? container.decodeIfPresent(Int64.self, forKey: .doubleExecutions)
        lateRetries = try? container.decodeIfPresent(Int64.self, forKey: .lateRetries)
        suspectedNarrowKeys = try? container.decodeIfPresent(Int64.self, forKey: .suspectedNarrowKeys)
        retryDelay = try? container.decodeIfPresent(RetryDelay.self, forKey: .retryDelay)
        topClients = (try? container.decodeIfPresent([ClientFigures].self, forKey: .topClients)) ?? []
    }
}
