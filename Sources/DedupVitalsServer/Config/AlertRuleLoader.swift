import DedupVitalsCore
import Foundation
import Yams

/// Reads and validates alert rule files (docs/reference/alert-rules.md); every problem is reported with file and line.
public enum AlertRuleLoader {
    static let ruleKeys: Set<String> = [
        "alert", "kind", "window", "above", "baseline", "min_attempts", "for", "match", "labels", "annotations",
    ]

    /// The rules of `config`: its `rule_files`, or the built-in defaults (`alerts/dedup-vitals.yml`) when it names none.
    /// Alert names must be unique across all files.
    public static func load(for config: ServiceConfig) throws(ConfigError) -> [AlertRule] {
        let (rules, problems) = check(config)
        guard problems.isEmpty else { throw ConfigError(problems) }
        return rules
    }

    /// Validates a configuration file and the rule files it names (`check-config`): the configuration, its rules,
    /// and every problem of both. Rule files named by a configuration with other problems are still checked.
    public static func checkConfigFile(_ path: String) -> (ServiceConfig, [AlertRule], [ConfigProblem]) {
        var config = ServiceConfig()
        var problems: [ConfigProblem] = []
        do {
            config = try ConfigLoader.load(path: path)
        } catch {
            problems = error.problems
            if let text = readText(path) { config = ConfigLoader.parse(text, file: path).0 }
        }
        let (rules, ruleProblems) = check(config)
        return (config, rules, problems + ruleProblems)
    }

    /// Like ``load(for:)`` but returns the valid rules and every problem found.
    public static func check(_ config: ServiceConfig) -> ([AlertRule], [ConfigProblem]) {
        var sources: [(file: String, text: String?)] = []
        if config.ruleFiles.isEmpty {
            sources.append((DefaultAlertRules.path, DefaultAlertRules.yaml))
        } else {
            sources = config.ruleFiles.map { ($0, readText($0)) }
        }
        var rules: [AlertRule] = []
        var problems: [ConfigProblem] = []
        var seen: [String: (file: String, line: Int)] = [:]
        for (file, text) in sources {
            guard let text else {
                problems.append(
                    ConfigProblem(file: file, line: 0, message: "cannot read the rule file (or it is not UTF-8 text)"))
                continue
            }
            let (fileRules, fileProblems, lines) = parseWithLines(text, file: file, config: config)
            problems += fileProblems
            for (rule, line) in zip(fileRules, lines) {
                if let first = seen[rule.name] {
                    problems.append(
                        ConfigProblem(
                            file: file, line: line,
                            message:
                                "alert \"\(rule.name)\" is already defined at \(first.file):\(first.line); alert names must be unique"
                        ))
                    continue
                }
                seen[rule.name] = (file, line)
                rules.append(rule)
            }
        }
        return (rules, problems)
    }

    /// Parses one rule file's text; returns the valid rules and every problem found.
    public static func parse(
        _ text: String, file: String, config: ServiceConfig = ServiceConfig()
    ) -> ([AlertRule], [ConfigProblem]) {
        let (rules, problems, _) = parseWithLines(text, file: file, config: config)
        return (rules, problems)
    }

    private static func readText(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).flatMap { String(data: $0, encoding: .utf8) }
    }

    private static func parseWithLines(
        _ text: String, file: String, config: ServiceConfig
    ) -> ([AlertRule], [ConfigProblem], [Int]) {
        var reader = YAMLReader(file: file)
        guard let root = reader.parse(text), let entries = reader.mapping(root, "rule file", allowed: ["rules"]) else {
            return ([], reader.problems, [])
        }
        guard let rulesNode = entries["rules"] else {
            reader.problem(root, "a rule file must have a \"rules\" list")
            return ([], reader.problems, [])
        }
        guard let items = reader.sequence(rulesNode, "rules") else { return ([], reader.problems, []) }
        var rules: [AlertRule] = []
        var lines: [Int] = []
        for item in items {
            if let rule = parseRule(item, reader: &reader, config: config) {
                rules.append(rule)
                lines.append(item.mark?.line ?? 0)
            }
        }
        return (rules, reader.problems, lines)
    }

    /// One rule; nil (with problems recorded) when it is invalid.
    private static func parseRule(_ node: Node, reader: inout YAMLReader, config: ServiceConfig) -> AlertRule? {
        guard let fields = reader.mapping(node, "rules[]", allowed: ruleKeys) else { return nil }
        let before = reader.problems.count
        guard let nameNode = fields["alert"] else {
            reader.problem(node, "rules[]: alert (the rule's name) is required")
            return nil
        }
        guard let name = reader.string(nameNode, "rules[].alert") else { return nil }
        if !isLabelName(name) {
            reader.problem(nameNode, "alert \"\(name)\": the name must match [A-Za-z_][A-Za-z0-9_]*")
        }
        let context = "alert \(name)"
        guard let kindNode = fields["kind"] else {
            reader.problem(node, "\(context): kind is required (\(kindList))")
            return nil
        }
        guard let kindText = reader.string(kindNode, "\(context): kind") else { return nil }
        guard let kind = AlertRuleKind(rawValue: kindText) else {
            reader.problem(kindNode, "\(context): kind \"\(kindText)\" is not one of \(kindList)")
            return nil
        }
        var rule = AlertRule(name: name, kind: kind)
        if let node = fields["window"], let window = reader.duration(node, "\(context): window") {
            checkWindow(window, node: node, what: "window", context: context, reader: &reader, config: config)
            rule.window = window
        }
        if let node = fields["above"] {
            if let above = reader.number(node, "\(context): above") {
                if above < 0 {
                    reader.problem(node, "\(context): above must be at least 0")
                } else if kind.isRatio, above >= 1 {
                    reader.problem(node, "\(context): above is a ratio for \(kind.rawValue) and must be below 1")
                }
                rule.above = above
            }
        } else if kind.isRatio {
            reader.problem(node, "\(context): above is required for \(kind.rawValue)")
        }
        if let node = fields["baseline"] {
            rule.baseline = parseBaseline(node, rule: rule, context: context, reader: &reader, config: config)
        }
        if let node = fields["min_attempts"], let value = reader.integer(node, "\(context): min_attempts", in: 0...Int(Int32.max))
        {
            rule.minAttempts = Int64(value)
        }
        if let node = fields["for"], let value = reader.duration(node, "\(context): for", positive: false) {
            rule.forDuration = value
        }
        if let node = fields["match"], let entries = reader.stringEntries(node, "\(context): match") {
            for entry in entries {
                if !AlertRule.matchableLabels.contains(entry.name) {
                    reader.problem(
                        entry.keyNode, "\(context): match may only filter on service and operation, not \"\(entry.name)\"")
                } else if !EventRules.isValidName(entry.value) {
                    reader.problem(
                        entry.valueNode, "\(context): match.\(entry.name) \"\(entry.value)\" is not a valid \(entry.name) name")
                }
                rule.match[entry.name] = entry.value
            }
        }
        if let node = fields["labels"], let entries = reader.stringEntries(node, "\(context): labels") {
            for entry in entries {
                if !isLabelName(entry.name) || entry.name.hasPrefix("__") {
                    reader.problem(entry.keyNode, "\(context): \"\(entry.name)\" is not a valid label name")
                } else if AlertRule.reservedLabels.contains(entry.name) {
                    reader.problem(
                        entry.keyNode, "\(context): label \"\(entry.name)\" is set by dedup-vitals and cannot be overridden")
                }
                rule.labels[entry.name] = entry.value
            }
        }
        if let node = fields["annotations"], let entries = reader.stringEntries(node, "\(context): annotations") {
            for entry in entries {
                if !isLabelName(entry.name) {
                    reader.problem(entry.keyNode, "\(context): \"\(entry.name)\" is not a valid annotation name")
                }
                if let problem = AnnotationTemplate.problem(in: entry.value) {
                    reader.problem(entry.valueNode, "\(context): annotation \(entry.name): \(problem)")
                }
                rule.annotations[entry.name] = entry.value
            }
        }
        return reader.problems.count == before ? rule : nil
    }

    private static func parseBaseline(
        _ node: Node, rule: AlertRule, context: String, reader: inout YAMLReader, config: ServiceConfig
    ) -> AlertRule.Baseline? {
        guard let fields = reader.mapping(node, "\(context): baseline", allowed: ["window", "factor"]) else { return nil }
        if !rule.kind.isRatio {
            reader.problem(node, "\(context): baseline applies to ratio kinds only, not \(rule.kind.rawValue)")
        }
        guard let windowNode = fields["window"], let factorNode = fields["factor"] else {
            reader.problem(node, "\(context): baseline needs both window and factor")
            return nil
        }
        guard let window = reader.duration(windowNode, "\(context): baseline.window"),
            let factor = reader.number(factorNode, "\(context): baseline.factor")
        else { return nil }
        checkWindow(window, node: windowNode, what: "baseline.window", context: context, reader: &reader, config: config)
        if window <= rule.window {
            reader.problem(windowNode, "\(context): baseline.window (\(window)) must be longer than window (\(rule.window))")
        }
        if factor <= 0 { reader.problem(factorNode, "\(context): baseline.factor must be greater than 0") }
        return AlertRule.Baseline(window: window, factor: factor)
    }

    private static func checkWindow(
        _ window: PromDuration, node: Node, what: String, context: String, reader: inout YAMLReader, config: ServiceConfig
    ) {
        if window.milliseconds % BucketClock.defaultWidthMs != 0 {
            reader.problem(node, "\(context): \(what) \(window) is not a multiple of the 10s bucket")
        } else if window > config.retention {
            reader.problem(node, "\(context): \(what) \(window) is longer than the retention (\(config.retention))")
        }
    }

    private static let kindList = AlertRuleKind.allCases.map(\.rawValue).joined(separator: ", ")

    /// Prometheus label names use the same charset as environment variable names: `[A-Za-z_][A-Za-z0-9_]*`.
    static func isLabelName(_ name: String) -> Bool { ConfigLoader.isEnvironmentVariableName(name) }
}
