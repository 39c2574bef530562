/// The small subset of Prometheus alert templates that annotations may use.
///
/// Text is copied as is; actions between `{{` and `}}` are pipelines of one term and optional functions:
/// terms `$value` (or `.Value`), `$labels.NAME` (or `.Labels.NAME`; a missing label is empty) and `$trace_id` (the
/// trace of the latest double execution, for `double_execution` rules; empty otherwise), functions
/// `humanizePercentage` and `humanize`, applied either as `{{ $value | humanizePercentage }}` or as
/// `{{ humanizePercentage $value }}`. Values print as Go prints a float64 (`0.125`, `3`, `1e-05`).
public enum AnnotationTemplate {
    enum Term: Equatable {
        case value
        case label(String)
        case traceID
    }

    enum Function: String, CaseIterable {
        case humanizePercentage, humanize
    }

    enum Segment: Equatable {
        case text(String)
        case action(Term, [Function])
    }

    /// Why `template` cannot be rendered, or nil when it is valid.
    public static func problem(in template: String) -> String? {
        switch parse(template) {
        case .success: nil
        case .failure(let error): error.message
        }
    }

    /// Renders `template`; an invalid template (rejected when rules are loaded) is returned unchanged.
    public static func render(_ template: String, labels: [String: String], value: Double, traceID: String = "") -> String {
        guard case .success(let segments) = parse(template) else { return template }
        var out = ""
        for segment in segments {
            switch segment {
            case .text(let text):
                out += text
            case .action(let term, let functions):
                var number: Double?
                var text = ""
                switch term {
                case .value: number = value
                case .label(let name): text = labels[name] ?? ""
                case .traceID: text = traceID
                }
                for function in functions {
                    text = apply(function, number ?? Double(text) ?? .nan)
                    number = nil
                }
                out += number.map(goFloat) ?? text
            }
        }
        return out
    }

    struct ParseError: Error {
        var message: String
    }

    static func parse(_ template: String) -> Result<[Segment], ParseError> {
        var segments: [Segment] = []
        var rest = Substring(template)
        while let open = rest.firstRange(of: "{{") {
            if open.lowerBound > rest.startIndex { segments.append(.text(String(rest[..<open.lowerBound]))) }
            let afterOpen = rest[open.upperBound...]
            guard let close = afterOpen.firstRange(of: "}}") else {
                return .failure(ParseError(message: "unclosed action \"{{\" in template"))
            }
            let action = String(afterOpen[..<close.lowerBound])
            switch parseAction(action) {
            case .success(let segment): segments.append(segment)
            case .failure(let error): return .failure(error)
            }
            rest = afterOpen[close.upperBound...]
        }
        if rest.contains("}}") { return .failure(ParseError(message: "unexpected \"}}\" in template")) }
        if !rest.isEmpty { segments.append(.text(String(rest))) }
        return .success(segments)
    }

    private static func parseAction(_ action: String) -> Result<Segment, ParseError> {
        let stages = action.split(separator: "|", omittingEmptySubsequences: false).map {
            $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        }
        guard let first = stages.first, !first.isEmpty else {
            return .failure(ParseError(message: "empty action \"{{\(action)}}\""))
        }
        var functions: [Function] = []
        let termText: String
        switch first.count {
        case 1:
            termText = first[0]
        case 2:
            guard let function = Function(rawValue: first[0]) else {
                return .failure(ParseError(message: "unknown function \"\(first[0])\" in \"{{\(action)}}\"\(supported)"))
            }
            functions.append(function)
            termText = first[1]
        default:
            return .failure(ParseError(message: "cannot parse \"{{\(action)}}\"\(supported)"))
        }
        guard let term = parseTerm(termText) else {
            return .failure(ParseError(message: "unknown value \"\(termText)\" in \"{{\(action)}}\"\(supported)"))
        }
        for stage in stages.dropFirst() {
            guard stage.count == 1, let function = Function(rawValue: stage[0]) else {
                return .failure(
                    ParseError(message: "unknown function \"\(stage.joined(separator: " "))\" in \"{{\(action)}}\"\(supported)"))
            }
            functions.append(function)
        }
        return .success(.action(term, functions))
    }

    private static let supported =
        " (supported: $value, $labels.NAME, $trace_id, humanizePercentage, humanize)"

    private static func parseTerm(_ text: String) -> Term? {
        if text == "$value" || text == ".Value" { return .value }
        if text == "$trace_id" { return .traceID }
        for prefix in ["$labels.", ".Labels."] where text.hasPrefix(prefix) {
            let name = text.dropFirst(prefix.count)
            guard let first = name.utf8.first, !(0x30...0x39).contains(first),
                name.utf8.allSatisfy({ isNameByte($0) })
            else { return nil }
            return .label(String(name))
        }
        return nil
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x5F
    }

    static func apply(_ function: Function, _ value: Double) -> String {
        switch function {
        case .humanizePercentage:
            return GoFloatFormat.g4(value * 100) + "%"
        case .humanize:
            return humanize(value)
        }
    }

    /// Prometheus `humanize`: SI prefixes, four significant digits.
    static func humanize(_ value: Double) -> String {
        if value == 0 || !value.isFinite { return GoFloatFormat.g4(value) }
        var v = value
        if abs(v) >= 1 {
            var prefix = ""
            for next in ["k", "M", "G", "T", "P", "E", "Z", "Y"] where abs(v) >= 1000 {
                v /= 1000
                prefix = next
            }
            return GoFloatFormat.g4(v) + prefix
        }
        var prefix = ""
        for next in ["m", "µ", "n", "p", "f", "a", "z", "y"] where abs(v) < 1 {
            v *= 1000
            prefix = next
        }
        return GoFloatFormat.g4(v) + prefix
    }

    /// A float64 as Go's `%v` prints it.
    static func goFloat(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e21 { return String(Int64(value)) }
        return String(value)
    }
}
