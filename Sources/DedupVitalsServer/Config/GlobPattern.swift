/// A shell-style pattern over a service or operation name: `*` matches any run of characters (also none), `?`
/// exactly one, every other character itself. Used by `metrics.series[].match` (docs/reference/configuration.md).
///
/// Globs rather than regular expressions: they are matched for every series on every scrape, and a byte-wise
/// glob match costs tens of nanoseconds where a regular-expression engine costs microseconds; the names they match
/// are restricted to `[A-Za-z0-9_.-]`, where a glob says what a user needs.
public struct GlobPattern: Sendable, Equatable, CustomStringConvertible {
    public let pattern: String
    private let bytes: [UInt8]

    /// nil when the pattern contains a character that no service or operation name can contain (or is empty).
    public init?(_ pattern: String) {
        let allowed = { (byte: UInt8) in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || [UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "*"), UInt8(ascii: "?")].contains(byte)
        }
        guard !pattern.isEmpty, pattern.utf8.allSatisfy(allowed) else { return nil }
        self.pattern = pattern
        bytes = Array(pattern.utf8)
    }

    /// Matches every name.
    public static let any = GlobPattern("*")!

    public var description: String { pattern }

    public func matches(_ name: String) -> Bool {
        if bytes == [UInt8(ascii: "*")] { return true }
        var name = name
        return name.withUTF8 { Self.match(bytes, $0) }
    }

    /// The classic linear-time glob match: on a mismatch after a `*`, retry with that `*` taking one more byte.
    private static func match(_ pattern: [UInt8], _ name: UnsafeBufferPointer<UInt8>) -> Bool {
        var (p, n) = (0, 0)
        var star: (pattern: Int, name: Int)?
        while n < name.count {
            if p < pattern.count, pattern[p] == UInt8(ascii: "*") {
                star = (p, n)
                p += 1
            } else if p < pattern.count, pattern[p] == UInt8(ascii: "?") || pattern[p] == name[n] {
                p += 1
                n += 1
            } else if let last = star {
                p = last.pattern + 1
                n = last.name + 1
                star = (last.pattern, last.name + 1)
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }
}
