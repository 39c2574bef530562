/// The document of `GET /v1/summary`, as far as the dashboard reads it.
public struct SummaryResponse: Decodable, Sendable, Equatable {
    /// RFC 3339.
    public var generatedAt: String?
    /// Window labels in the service's configured order.
    public var windows: [String]
    /// Every series added up, by window label.
    public var overall: [String: WindowCounts]
    public var series: [SeriesSummary]
    /// The alerts now firing, when the summary carries them.
    public var alerts: [AlertItem]?

    public init(
        generatedAt: String? = nil, windows: [String], overall: [String: WindowCounts] = [:], series: [SeriesSummary],
        alerts: [AlertItem]? = nil
    ) {
        self.generatedAt = generatedAt
        self.windows = windows
        self.overall = overall
        self.series = series
        self.alerts = alerts
    }

    enum CodingKeys: String, CodingKey {
        case generatedAt = "generated_at"
        case windows, overall, series, alerts
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        generatedAt = try? container.decodeIfPresent(String.self, forKey: .generatedAt)
        windows = try container.decode([String].self, forKey: .windows)
        overall = try container.decodeIfPresent([String: WindowCounts].self, forKey: .overall) ?? [:]
        series = try container.decode([SeriesSummary].self, forKey: .series)
        alerts = try? container.decodeIfPresent([AlertItem].self, forKey: .alerts)
    }
}
