/// One metric family of `/metrics`: everything about it but its samples.
///
/// Families are declared once, in ``MetricsCatalog``; the renderers write HELP, TYPE (and UNIT in OpenMetrics) from
/// the declaration and name samples after it, and a test checks the catalog against the README's metrics table,
/// `alerts/prometheus/exported-metrics.txt` and the dashboards.
struct MetricFamily: Sendable, Hashable {
    enum FamilyType: String, Sendable {
        case counter, gauge, histogram
    }

    /// The sample name (counters end in `_total`; OpenMetrics names the family without it).
    let name: String
    let type: FamilyType
    let help: String
    /// The base unit the name ends with (`seconds`, `bytes`), or nil for a count or ratio.
    let unit: String?
    /// The label names of every sample, in the order they are written (histograms add `le` to their buckets).
    let labels: [String]

    init(_ name: String, _ type: FamilyType, unit: String? = nil, labels: [String] = [], help: String) {
        self.name = name
        self.type = type
        self.help = help
        self.unit = unit
        self.labels = labels
    }

    /// The family's name in an exposition: OpenMetrics drops a counter's `_total`.
    func familyName(in format: ExpositionFormat) -> String {
        if format == .openMetrics, type == .counter, name.hasSuffix("_total") { return String(name.dropLast(6)) }
        return name
    }
}
