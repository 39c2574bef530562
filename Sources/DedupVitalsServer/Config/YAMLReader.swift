import DedupVitalsCore
import Yams

/// Walks a YAML document and collects problems with file and line, so that every problem is reported at once. Public
/// for the other configuration file of the executable, `mcp-guard`'s.
public struct YAMLReader {
    public let file: String
    public private(set) var problems: [ConfigProblem] = []

    public init(file: String) { self.file = file }

    /// Parses `text`; nil (with a problem recorded) when it is not YAML. An empty document is an empty mapping.
    public mutating func parse(_ text: String) -> Node? {
        do {
            return try Yams.compose(yaml: text) ?? Node.mapping(Node.Mapping([]))
        } catch let error as YamlError {
            switch error {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
                .composer(_, let problem, let mark, _):
                problems.append(ConfigProblem(file: file, line: mark.line, message: "invalid YAML: \(problem)"))
            default:
                problems.append(ConfigProblem(file: file, line: 0, message: "invalid YAML: \(error)"))
            }
        } catch {
            problems.append(ConfigProblem(file: file, line: 0, message: "invalid YAML: \(error)"))
        }
        return nil
    }

    public mutating func problem(_ node: Node?, _ message: String) {
        problems.append(ConfigProblem(file: file, line: node?.mark?.line ?? 0, message: message))
    }

    /// The entries of a mapping, with unknown keys reported. `context` names the mapping in messages.
    public mutating func mapping(_ node: Node, _ context: String, allowed: Set<String>) -> [String: Node]? {
        guard case .mapping(let mapping) = node else {
            problem(node, "\(context) must be a mapping")
            return nil
        }
        var entries: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string else {
                problem(keyNode, "\(context): keys must be strings")
                continue
            }
            guard allowed.contains(key) else {
                let path = context == "configuration" ? key : "\(context).\(key)"
                problem(keyNode, "unknown key \"\(path)\"")
                continue
            }
            if entries[key] != nil { problem(keyNode, "\(context): key \"\(key)\" appears more than once") }
            entries[key] = value
        }
        return entries
    }

    public mutating func sequence(_ node: Node, _ key: String) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            problem(node, "\(key) must be a list")
            return nil
        }
        return Array(sequence)
    }

    public mutating func string(_ node: Node, _ key: String) -> String? {
        guard case .scalar(let scalar) = node, !scalar.string.isEmpty else {
            problem(node, "\(key) must be a non-empty string")
            return nil
        }
        return scalar.string
    }

    public mutating func duration(_ node: Node, _ key: String, positive: Bool = true) -> PromDuration? {
        guard let text = string(node, key) else { return nil }
        guard let duration = PromDuration(text) else {
            problem(node, "\(key): \"\(text)\" is not a duration (write it like 500ms, 30s, 5m, 1h, 1d or 1h30m)")
            return nil
        }
        if positive, duration.milliseconds <= 0 {
            problem(node, "\(key) must be greater than 0")
            return nil
        }
        return duration
    }

    public mutating func integer(_ node: Node, _ key: String, in range: ClosedRange<Int>) -> Int? {
        guard case .scalar(let scalar) = node, let value = Int(scalar.string) else {
            problem(node, "\(key) must be an integer")
            return nil
        }
        guard range.contains(value) else {
            problem(node, "\(key) must be between \(range.lowerBound) and \(range.upperBound)")
            return nil
        }
        return value
    }

    public mutating func number(_ node: Node, _ key: String) -> Double? {
        guard case .scalar(let scalar) = node, let value = Double(scalar.string), value.isFinite else {
            problem(node, "\(key) must be a number")
            return nil
        }
        return value
    }

    public mutating func bool(_ node: Node, _ key: String) -> Bool? {
        guard case .scalar(let scalar) = node else {
            problem(node, "\(key) must be true or false")
            return nil
        }
        switch scalar.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            problem(node, "\(key) must be true or false")
            return nil
        }
    }

    public mutating func stringList(_ node: Node, _ key: String) -> [String]? {
        guard let items = sequence(node, key) else { return nil }
        var result: [String] = []
        for item in items {
            if let value = string(item, "\(key)[]") { result.append(value) }
        }
        return result
    }

    /// A mapping of string to string (labels, annotations, match filters).
    public mutating func stringMap(_ node: Node, _ key: String) -> [String: String]? {
        guard case .mapping(let mapping) = node else {
            problem(node, "\(key) must be a mapping")
            return nil
        }
        var result: [String: String] = [:]
        for (keyNode, value) in mapping {
            guard let name = keyNode.scalar?.string, case .scalar(let scalar) = value else {
                problem(keyNode, "\(key) must map names to strings")
                continue
            }
            result[name] = scalar.string
        }
        return result
    }
}

extension YAMLReader {
    /// One entry of a string-to-string mapping, with its nodes for line numbers.
    struct StringEntry {
        var name: String
        var value: String
        var keyNode: Node
        var valueNode: Node
    }

    /// The entries of a mapping of string to string, in file order, with duplicates reported.
    mutating func stringEntries(_ node: Node, _ key: String) -> [StringEntry]? {
        guard case .mapping(let mapping) = node else {
            problem(node, "\(key) must be a mapping")
            return nil
        }
        var result: [StringEntry] = []
        for (keyNode, value) in mapping {
            guard let name = keyNode.scalar?.string, case .scalar(let scalar) = value else {
                problem(keyNode, "\(key) must map names to strings")
                continue
            }
            if result.contains(where: { $0.name == name }) { problem(keyNode, "\(key): \"\(name)\" appears more than once") }
            result.append(StringEntry(name: name, value: scalar.string, keyNode: keyNode, valueNode: value))
        }
        return result
    }
}
