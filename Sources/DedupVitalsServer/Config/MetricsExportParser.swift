import DedupVitalsCore
import Yams

/// Reads the `metrics:` section (``MetricsExportConfig``). Every window it names must be one of the configured
/// `windows` (a window that is not computed cannot be exported), and every rule needs a `match`.
extension ConfigLoader {
    static func parseMetrics(_ node: Node, windows: [PromDuration], reader: inout YAMLReader) -> MetricsExportConfig {
        var export = MetricsExportConfig()
        guard
            let entries = reader.mapping(
                node, "metrics", allowed: ["windows", "retry_delay", "retry_delay_protobuf", "series"])
        else { return export }
        if let node = entries["windows"] {
            export.windows = exportedWindows(node, "metrics.windows", windows: windows, reader: &reader)
        }
        if let node = entries["retry_delay"], let value = reader.bool(node, "metrics.retry_delay") {
            export.retryDelay = value
        }
        if let node = entries["retry_delay_protobuf"], let text = reader.string(node, "metrics.retry_delay_protobuf") {
            if let value = MetricsExportConfig.ProtobufBuckets(rawValue: text) {
                export.retryDelayProtobuf = value
            } else {
                reader.problem(node, "metrics.retry_delay_protobuf must be native, classic or both, not \"\(text)\"")
            }
        }
        if let node = entries["series"], let items = reader.sequence(node, "metrics.series") {
            if items.count > maxSeriesRules {
                reader.problem(node, "metrics.series has \(items.count) rules; at most \(maxSeriesRules) are allowed")
            }
            for (index, item) in items.enumerated() {
                if let rule = parseSeriesRule(item, context: "metrics.series[\(index)]", windows: windows, reader: &reader) {
                    export.series.append(rule)
                }
            }
        }
        return export
    }

    /// Rules are tried in order for every series on every scrape.
    static let maxSeriesRules = 1000

    private static func parseSeriesRule(
        _ node: Node, context: String, windows: [PromDuration], reader: inout YAMLReader
    ) -> MetricsExportConfig.SeriesRule? {
        guard let fields = reader.mapping(node, context, allowed: ["match", "windows", "retry_delay"]) else { return nil }
        guard let matchNode = fields["match"] else {
            reader.problem(node, "\(context): match is required (service and/or operation patterns)")
            return nil
        }
        guard let match = reader.mapping(matchNode, "\(context).match", allowed: ["service", "operation"]) else { return nil }
        if match.isEmpty { reader.problem(matchNode, "\(context).match must name service, operation or both") }
        var rule = MetricsExportConfig.SeriesRule()
        for (key, path) in [("service", \MetricsExportConfig.SeriesRule.service), ("operation", \.operation)] {
            guard let patternNode = match[key], let text = reader.string(patternNode, "\(context).match.\(key)") else {
                continue
            }
            if let pattern = GlobPattern(text) {
                rule[keyPath: path] = pattern
            } else {
                reader.problem(
                    patternNode,
                    "\(context).match.\(key): \"\(text)\" is not a pattern of [A-Za-z0-9_.-] characters with * and ?")
            }
        }
        if let node = fields["windows"] {
            rule.windows = exportedWindows(node, "\(context).windows", windows: windows, reader: &reader)
        }
        if let node = fields["retry_delay"] { rule.retryDelay = reader.bool(node, "\(context).retry_delay") }
        if rule.windows == nil, rule.retryDelay == nil {
            reader.problem(node, "\(context): give windows, retry_delay or both (a rule that changes nothing)")
        }
        return rule
    }

    /// A list of configured windows (possibly empty: no per-window samples).
    private static func exportedWindows(
        _ node: Node, _ key: String, windows: [PromDuration], reader: inout YAMLReader
    ) -> [PromDuration]? {
        guard let items = reader.sequence(node, key) else { return nil }
        var chosen: [PromDuration] = []
        for item in items {
            guard let window = reader.duration(item, "\(key)[]") else { continue }
            if !windows.contains(window) {
                let configured = windows.map(\.description).joined(separator: ", ")
                reader.problem(item, "\(key): \(window) is not one of the configured windows (\(configured))")
            } else if chosen.contains(window) {
                reader.problem(item, "\(key): \(window) is listed twice")
            } else {
                chosen.append(window)
            }
        }
        return chosen
    }
}
