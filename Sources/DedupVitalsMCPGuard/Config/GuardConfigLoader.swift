import DedupVitalsCore
import DedupVitalsServer
import Foundation
import Yams

/// Reads the YAML configuration of `mcp-guard` (docs/mcp-guard.md#configuration); every problem is reported as
/// `file:line: message`, like the service's configuration.
public enum GuardConfigLoader {
    static let topLevelKeys: Set<String> = ["service", "database", "dedup_window", "in_flight_wait", "report", "tools"]
    static let reportKeys: Set<String> = ["url", "token_env", "buffer", "batch_size", "flush_interval"]
    static let toolKeys: Set<String> = ["guard", "key_fields", "ignore_fields"]

    /// Loads the file at `path`; a relative `database` is resolved against the file's folder.
    public static func load(path: String) throws(ConfigError) -> GuardConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError([ConfigProblem(file: path, line: 0, message: "cannot read the file")])
        }
        let (config, problems) = parse(String(decoding: data, as: UTF8.self), file: path)
        guard problems.isEmpty else { throw ConfigError(problems) }
        return config
    }

    /// Parses configuration text: the configuration built from its valid parts and every problem found.
    public static func parse(_ text: String, file: String) -> (GuardConfig, [ConfigProblem]) {
        var reader = YAMLReader(file: file)
        var config = GuardConfig()
        guard let root = reader.parse(text), let entries = reader.mapping(root, "configuration", allowed: topLevelKeys) else {
            return (config, reader.problems)
        }
        if let node = entries["service"], let name = reader.string(node, "service") {
            if EventRules.isValidName(name) {
                config.service = name
            } else {
                reader.problem(node, "service: \"\(name)\" must match [A-Za-z_][A-Za-z0-9_.-]{0,63}")
            }
        }
        if let node = entries["database"], let path = reader.string(node, "database") {
            let directory = (file as NSString).deletingLastPathComponent
            config.database = path.hasPrefix("/") || directory.isEmpty ? path : directory + "/" + path
        }
        if let node = entries["dedup_window"], let value = reader.duration(node, "dedup_window") { config.dedupWindow = value }
        if let node = entries["in_flight_wait"], let value = reader.duration(node, "in_flight_wait", positive: false) {
            config.inFlightWait = value
        }
        if let node = entries["report"] { config.report = parseReport(node, reader: &reader) }
        if let node = entries["tools"] { config.tools = parseTools(node, reader: &reader) }
        return (config, reader.problems)
    }

    private static func parseReport(_ node: Node, reader: inout YAMLReader) -> GuardConfig.Report? {
        guard let entries = reader.mapping(node, "report", allowed: reportKeys) else { return nil }
        guard let urlNode = entries["url"] else {
            reader.problem(node, "report.url is required")
            return nil
        }
        guard let url = reader.string(urlNode, "report.url") else { return nil }
        if !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
            reader.problem(urlNode, "report.url: \"\(url)\" is not an http:// or https:// URL")
        }
        var report = GuardConfig.Report(url: url)
        if let node = entries["token_env"], let name = reader.string(node, "report.token_env") { report.tokenEnv = name }
        if let node = entries["buffer"], let value = reader.integer(node, "report.buffer", in: 1...1_000_000) {
            report.buffer = value
        }
        if let node = entries["batch_size"], let value = reader.integer(node, "report.batch_size", in: 1...10_000) {
            report.batchSize = value
        }
        if let node = entries["flush_interval"], let value = reader.duration(node, "report.flush_interval") {
            report.flushInterval = value
        }
        return report
    }

    private static func parseTools(_ node: Node, reader: inout YAMLReader) -> [String: GuardConfig.ToolRule] {
        guard case .mapping(let mapping) = node else {
            reader.problem(node, "tools must map tool names to their rules")
            return [:]
        }
        var tools: [String: GuardConfig.ToolRule] = [:]
        for (nameNode, value) in mapping {
            guard let name = reader.string(nameNode, "tools") else { continue }
            if tools[name] != nil { reader.problem(nameNode, "tools: \"\(name)\" appears more than once") }
            guard let entries = reader.mapping(value, "tools.\(name)", allowed: toolKeys) else { continue }
            var rule = GuardConfig.ToolRule()
            if let node = entries["guard"] { rule.guarded = reader.bool(node, "tools.\(name).guard") }
            if let node = entries["key_fields"], let fields = reader.stringList(node, "tools.\(name).key_fields") {
                if fields.isEmpty { reader.problem(node, "tools.\(name).key_fields must name at least one field") }
                rule.keyFields = fields
            }
            if let node = entries["ignore_fields"], let fields = reader.stringList(node, "tools.\(name).ignore_fields") {
                rule.ignoreFields = fields
                if let overlap = fields.first(where: { rule.keyFields?.contains($0) == true }) {
                    reader.problem(node, "tools.\(name): \"\(overlap)\" is both a key field and an ignored field")
                }
            }
            tools[name] = rule
        }
        return tools
    }
}
