import DedupVitalsCore

/// What one scrape exports of each series, resolved from ``MetricsExportConfig`` once per scrape: a few profiles
/// (the section's defaults, then one per rule) and, only when there are rules, the profile of each series.
///
/// The renderers ask ``profile(of:)`` per series and family; without rules that is the one default profile, so the
/// default configuration costs nothing per series.
struct SeriesExportPlan: Sendable {
    struct Profile: Sendable, Equatable {
        /// Indexes into the scrape's windows (and each series' `windows` counts), in the configured order.
        var windows: [Int]
        var retryDelay: Bool
    }

    let profiles: [Profile]
    /// The profile index of each series; empty when every series has profile 0.
    private let profileOfSeries: [UInt16]
    let retryDelayProtobuf: MetricsExportConfig.ProtobufBuckets

    /// Everything, as without a `metrics:` section.
    static func all(windows: [PromDuration]) -> SeriesExportPlan {
        SeriesExportPlan(config: MetricsExportConfig(), windows: windows, series: [])
    }

    init(config: MetricsExportConfig, windows: [PromDuration], series: [SeriesKey]) {
        func indexes(_ chosen: [PromDuration]?) -> [Int] {
            guard let chosen else { return Array(windows.indices) }
            return windows.indices.filter { chosen.contains(windows[$0]) }
        }
        let base = Profile(windows: indexes(config.windows), retryDelay: config.retryDelay)
        var profiles = [base]
        for rule in config.series {
            profiles.append(
                Profile(
                    windows: rule.windows.map { indexes($0) } ?? base.windows, retryDelay: rule.retryDelay ?? base.retryDelay))
        }
        self.profiles = profiles
        retryDelayProtobuf = config.retryDelayProtobuf
        let rules = config.series
        profileOfSeries =
            rules.isEmpty
            ? []
            : series.map { key in
                UInt16((rules.firstIndex { $0.matches(key) }).map { $0 + 1 } ?? 0)
            }
    }

    func profile(of series: Int) -> Profile {
        profileOfSeries.isEmpty ? profiles[0] : profiles[Int(profileOfSeries[series])]
    }
}
