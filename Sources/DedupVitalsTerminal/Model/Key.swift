/// One key press, decoded from the bytes a terminal sends in raw mode.
public enum Key: Sendable, Equatable {
    case character(Character)
    case up, down, left, right, pageUp, pageDown, home, end
    case enter, escape, backspace, tab
    /// Ctrl-C (raw mode delivers it as a byte, not as SIGINT).
    case interrupt
    /// A control character or escape sequence the dashboard does not use.
    case unknown

    /// Decodes the bytes of one `read` from the terminal. A lone ESC is the Escape key; ESC followed by `[` or `O`
    /// starts a cursor or editing sequence.
    public static func decode(_ bytes: [UInt8]) -> [Key] {
        var keys: [Key] = []
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            switch byte {
            case 0x1B:
                guard i + 1 < bytes.count else {
                    keys.append(.escape)
                    i += 1
                    continue
                }
                let introducer = bytes[i + 1]
                guard introducer == UInt8(ascii: "[") || introducer == UInt8(ascii: "O") else {
                    keys.append(.escape)
                    i += 1
                    continue
                }
                var end = i + 2
                while end < bytes.count, !(0x40...0x7E).contains(bytes[end]) { end += 1 }
                guard end < bytes.count else {
                    keys.append(.unknown)
                    i = bytes.count
                    continue
                }
                keys.append(sequence(parameters: Array(bytes[(i + 2)..<end]), final: bytes[end]))
                i = end + 1
            case 0x0D, 0x0A:
                keys.append(.enter)
                i += 1
            case 0x7F, 0x08:
                keys.append(.backspace)
                i += 1
            case 0x09:
                keys.append(.tab)
                i += 1
            case 0x03:
                keys.append(.interrupt)
                i += 1
            case 0..<0x20:
                keys.append(.unknown)
                i += 1
            default:
                var length = 1
                if byte >= 0xF0 { length = 4 } else if byte >= 0xE0 { length = 3 } else if byte >= 0xC0 { length = 2 }
                let slice = bytes[i..<min(bytes.count, i + length)]
                if let text = String(validating: slice, as: UTF8.self), let character = text.first {
                    keys.append(.character(character))
                } else {
                    keys.append(.unknown)
                }
                i += length
            }
        }
        return keys
    }

    private static func sequence(parameters: [UInt8], final: UInt8) -> Key {
        switch final {
        case UInt8(ascii: "A"): return .up
        case UInt8(ascii: "B"): return .down
        case UInt8(ascii: "C"): return .right
        case UInt8(ascii: "D"): return .left
        case UInt8(ascii: "H"): return .home
        case UInt8(ascii: "F"): return .end
        case UInt8(ascii: "~"):
            switch String(decoding: parameters, as: UTF8.self) {
            case "1", "7": return .home
            case "4", "8": return .end
            case "5": return .pageUp
            case "6": return .pageDown
            default: return .unknown
            }
        default: return .unknown
        }
    }
}
