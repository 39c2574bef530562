/// One screen line made of styled spans, measured in terminal columns (every character the dashboard draws is one
/// column wide).
public struct StyledLine: Sendable, Equatable {
    public struct Span: Sendable, Equatable {
        public var text: String
        public var style: TextStyle
    }

    public private(set) var spans: [Span] = []
    public private(set) var width = 0

    public init() {}

    public init(_ text: String, _ style: TextStyle = .plain) {
        append(text, style)
    }

    public mutating func append(_ text: String, _ style: TextStyle = .plain) {
        guard !text.isEmpty else { return }
        width += text.count
        if let last = spans.last, last.style == style {
            spans[spans.count - 1].text += text
        } else {
            spans.append(Span(text: text, style: style))
        }
    }

    public mutating func append(_ other: StyledLine) {
        for span in other.spans { append(span.text, span.style) }
    }

    /// Appends `text` padded or cut to exactly `columns`, right-aligned when `right`.
    public mutating func append(_ text: String, _ style: TextStyle = .plain, columns: Int, right: Bool = false) {
        let fitted = Self.fit(text, columns)
        let padding = String(repeating: " ", count: columns - fitted.count)
        if right {
            append(padding)
            append(fitted, style)
        } else {
            append(fitted, style)
            append(padding)
        }
    }

    /// Cut to at most `columns` (the last visible character becomes `…` when something was cut).
    public func truncated(to columns: Int) -> StyledLine {
        guard width > columns else { return self }
        var result = StyledLine()
        guard columns > 0 else { return result }
        var remaining = columns - 1
        for span in spans where remaining > 0 {
            let part = String(span.text.prefix(remaining))
            result.append(part, span.style)
            remaining -= part.count
        }
        result.append("…", spans.last?.style ?? .plain)
        return result
    }

    /// Cut or padded with spaces to exactly `columns`.
    public func fitted(to columns: Int) -> StyledLine {
        var result = truncated(to: columns)
        if result.width < columns { result.append(String(repeating: " ", count: columns - result.width)) }
        return result
    }

    /// The same spans with reverse video added (the selection bar).
    public func highlighted() -> StyledLine {
        var result = StyledLine()
        for span in spans {
            var style = span.style
            style.reverse = true
            result.append(span.text, style)
        }
        return result
    }

    /// The text without styles.
    public var plainText: String { spans.map(\.text).joined() }

    /// The text with SGR escape sequences when `color`, else plain.
    public func rendered(color: Bool) -> String {
        guard color else { return plainText }
        var out = ""
        for span in spans {
            if span.style.isPlain {
                out += span.text
            } else {
                out += span.style.escape + span.text + "\u{1B}[0m"
            }
        }
        return out
    }

    /// `text` cut to `columns`, with `…` marking the cut.
    public static func fit(_ text: String, _ columns: Int) -> String {
        guard columns > 0 else { return "" }
        guard text.count > columns else { return text }
        return String(text.prefix(columns - 1)) + "…"
    }
}
