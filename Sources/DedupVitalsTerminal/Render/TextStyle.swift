/// How a piece of text is drawn: a foreground colour and attributes. Rendered as SGR escape sequences, or not at all
/// without colour.
public struct TextStyle: Sendable, Equatable {
    public enum Color: Int, Sendable {
        case red = 31
        case green = 32
        case yellow = 33
        case blue = 34
        case magenta = 35
        case cyan = 36
        case gray = 90
    }

    public var color: Color?
    public var bold = false
    public var dim = false
    public var reverse = false

    public init(color: Color? = nil, bold: Bool = false, dim: Bool = false, reverse: Bool = false) {
        self.color = color
        self.bold = bold
        self.dim = dim
        self.reverse = reverse
    }

    public static let plain = TextStyle()
    public static let bold = TextStyle(bold: true)
    public static let dim = TextStyle(dim: true)
    public static func colored(_ color: Color, bold: Bool = false) -> TextStyle { TextStyle(color: color, bold: bold) }

    var isPlain: Bool { self == .plain }

    /// The SGR sequence that switches this style on (from the reset state).
    var escape: String {
        var codes: [String] = []
        if bold { codes.append("1") }
        if dim { codes.append("2") }
        if reverse { codes.append("7") }
        if let color { codes.append(String(color.rawValue)) }
        return "\u{1B}[" + codes.joined(separator: ";") + "m"
    }
}
