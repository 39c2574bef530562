import Foundation

/// A cursor over JSON bytes for the one document the dashboard reads by hand (``SummaryReader``). It checks the
/// JSON grammar as it goes; what is rare in the service's answers (a string with escapes, a number that is not a
/// plain integer where an integer is read) is handed to Foundation's `JSONDecoder`, so that it means what it meant
/// before.
struct JSONScanner {
    /// Malformed JSON or a value of the wrong type, with the byte offset.
    struct Failure: Error, CustomStringConvertible {
        var message: String
        var offset: Int
        var description: String { "\(message) at byte \(offset)" }
    }

    /// A field name: the bytes between its quotes, unescaped.
    struct Name {
        fileprivate var bytes: UnsafeBufferPointer<UInt8>
        fileprivate var unescaped: [UInt8]?

        static func ~= (pattern: StaticString, name: Name) -> Bool {
            let expected = UnsafeBufferPointer(start: pattern.utf8Start, count: pattern.utf8CodeUnitCount)
            if let unescaped = name.unescaped { return unescaped.elementsEqual(expected) }
            return name.bytes.elementsEqual(expected)
        }

        var string: String { String(decoding: unescaped ?? Array(bytes), as: UTF8.self) }
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private(set) var pos = 0
    private static let maxDepth = 64

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        skipWhitespace()
    }

    /// Checks that nothing but whitespace follows the document.
    mutating func finish() throws(Failure) {
        skipWhitespace()
        guard pos == bytes.count else { throw failure("unexpected text after the document") }
    }

    // MARK: Containers

    /// Calls `body` for each field of an object, positioned at the field's value, which `body` must read or skip.
    mutating func forEachField(_ body: (inout JSONScanner, Name) throws -> Void) throws {
        try expect(UInt8(ascii: "{"))
        if consume(UInt8(ascii: "}")) { return }
        repeat {
            guard peek() == UInt8(ascii: "\"") else { throw failure("expected a field name") }
            let name = try readName()
            try expect(UInt8(ascii: ":"))
            try body(&self, name)
            skipWhitespace()
        } while consume(UInt8(ascii: ","))
        try expect(UInt8(ascii: "}"))
    }

    /// Calls `body` for each element of an array, positioned at the element, which `body` must read or skip.
    mutating func forEachElement(_ body: (inout JSONScanner) throws -> Void) throws {
        try expect(UInt8(ascii: "["))
        if consume(UInt8(ascii: "]")) { return }
        repeat {
            try body(&self)
            skipWhitespace()
        } while consume(UInt8(ascii: ","))
        try expect(UInt8(ascii: "]"))
    }

    // MARK: Values

    /// Consumes `null` if it is next.
    mutating func consumeNull() -> Bool {
        guard peek() == UInt8(ascii: "n"), bytes.count - pos >= 4, bytes[pos + 1] == UInt8(ascii: "u"),
            bytes[pos + 2] == UInt8(ascii: "l"), bytes[pos + 3] == UInt8(ascii: "l")
        else { return false }
        pos += 4
        return true
    }

    mutating func string() throws -> String {
        guard peek() == UInt8(ascii: "\"") else { throw failure("expected a string") }
        let (range, escaped) = try scanString()
        if escaped { return try JSONDecoder().decode(String.self, from: Data(bytes[range])) }
        let inner = UnsafeBufferPointer(rebasing: bytes[(range.lowerBound + 1)..<(range.upperBound - 1)])
        guard let text = String(validating: inner, as: UTF8.self) else {
            throw Failure(message: "invalid UTF-8 in a string", offset: range.lowerBound)
        }
        return text
    }

    /// An integer: plain digits here, any other spelling of a number as `JSONDecoder` reads an `Int64`.
    mutating func int64() throws -> Int64 {
        let range = try scanNumber()
        var digits = bytes[range]
        let negative = digits.first == UInt8(ascii: "-")
        if negative { digits = digits.dropFirst() }
        guard digits.count <= 18, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return try JSONDecoder().decode(Int64.self, from: Data(bytes[range]))
        }
        let magnitude = digits.reduce(Int64(0)) { $0 * 10 + Int64($1 - 0x30) }
        return negative ? -magnitude : magnitude
    }

    mutating func double() throws -> Double {
        let range = try scanNumber()
        guard let value = Double(String(decoding: bytes[range], as: UTF8.self)) else {
            throw Failure(message: "number out of range", offset: range.lowerBound)
        }
        return value
    }

    /// The value read by `read`, or nil, with the value skipped, when it is of another type (what `try?` around a
    /// `Decodable` field gives). Malformed JSON still fails.
    mutating func tolerant<T>(_ read: (inout JSONScanner) throws -> T) throws -> T? {
        let start = pos
        do {
            return try read(&self)
        } catch {
            pos = start
            try skipValue()
            return nil
        }
    }

    /// Skips one value, checking that it is well-formed; returns its bytes.
    @discardableResult
    mutating func skipValue() throws -> UnsafeBufferPointer<UInt8> {
        let start = pos
        try skipValue(depth: 0)
        return UnsafeBufferPointer(rebasing: bytes[start..<pos])
    }

    private mutating func skipValue(depth: Int) throws {
        guard depth < Self.maxDepth else { throw failure("nesting too deep") }
        switch peek() {
        case UInt8(ascii: "{"): try forEachField { scanner, _ in try scanner.skipValue(depth: depth + 1) }
        case UInt8(ascii: "["): try forEachElement { try $0.skipValue(depth: depth + 1) }
        case UInt8(ascii: "\""): _ = try scanString()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: _ = try scanNumber()
        }
    }

    // MARK: Scanning

    private mutating func readName() throws -> Name {
        let (range, escaped) = try scanString()
        let inner = UnsafeBufferPointer(rebasing: bytes[(range.lowerBound + 1)..<(range.upperBound - 1)])
        guard escaped else { return Name(bytes: inner) }
        let text = try JSONDecoder().decode(String.self, from: Data(bytes[range]))
        return Name(bytes: inner, unescaped: Array(text.utf8))
    }

    /// A string literal's range, quotes included, and whether it holds escapes; at its opening quote.
    private mutating func scanString() throws(Failure) -> (Range<Int>, escaped: Bool) {
        let start = pos
        var escaped = false
        pos += 1
        while pos < bytes.count {
            switch bytes[pos] {
            case UInt8(ascii: "\""):
                pos += 1
                return (start..<pos, escaped)
            case UInt8(ascii: "\\"):
                escaped = true
                pos += 2
            case 0..<0x20:
                throw failure("control character in a string")
            default:
                pos += 1
            }
        }
        throw Failure(message: "unterminated string", offset: start)
    }

    /// A number's range, its grammar checked (RFC 8259 §6).
    private mutating func scanNumber() throws(Failure) -> Range<Int> {
        skipWhitespace()
        let start = pos
        _ = consumeByte(UInt8(ascii: "-"))
        let integerStart = pos
        let integerDigits = digits()
        guard integerDigits > 0 else { throw failure("expected a value") }
        guard integerDigits == 1 || bytes[integerStart] != 0x30 else { throw failure("leading zero in a number") }
        if consumeByte(UInt8(ascii: ".")), digits() == 0 { throw failure("digits expected after '.'") }
        if consumeByte(UInt8(ascii: "e")) || consumeByte(UInt8(ascii: "E")) {
            _ = consumeByte(UInt8(ascii: "+")) || consumeByte(UInt8(ascii: "-"))
            if digits() == 0 { throw failure("digits expected in the exponent") }
        }
        return start..<pos
    }

    private mutating func digits() -> Int {
        let start = pos
        while pos < bytes.count, bytes[pos] >= 0x30, bytes[pos] <= 0x39 { pos += 1 }
        return pos - start
    }

    private mutating func literal(_ text: StaticString) throws(Failure) {
        let expected = UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
        guard bytes.count - pos >= expected.count, bytes[pos..<(pos + expected.count)].elementsEqual(expected) else {
            throw failure("expected a value")
        }
        pos += expected.count
    }

    private mutating func expect(_ byte: UInt8) throws(Failure) {
        guard consume(byte) else { throw failure("expected '\(Character(Unicode.Scalar(byte)))'") }
    }

    /// Consumes `byte` if it is next after whitespace.
    private mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        return consumeByte(byte)
    }

    private mutating func consumeByte(_ byte: UInt8) -> Bool {
        guard pos < bytes.count, bytes[pos] == byte else { return false }
        pos += 1
        return true
    }

    /// The next byte after whitespace.
    private mutating func peek() -> UInt8? {
        skipWhitespace()
        return pos < bytes.count ? bytes[pos] : nil
    }

    private mutating func skipWhitespace() {
        while pos < bytes.count, bytes[pos] == 0x20 || bytes[pos] == 0x0A || bytes[pos] == 0x0D || bytes[pos] == 0x09 {
            pos += 1
        }
    }

    private func failure(_ message: String) -> Failure {
        Failure(message: pos < bytes.count ? message : "unexpected end of the document, \(message)", offset: pos)
    }
}
