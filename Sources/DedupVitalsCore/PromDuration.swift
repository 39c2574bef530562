/// A duration written as Prometheus writes them: `500ms`, `30s`, `5m`, `1h`, `1d`, `1w`, `1y`, `1h30m`.
public struct PromDuration: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The duration in milliseconds.
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    public static func seconds(_ s: Int64) -> PromDuration { .init(milliseconds: s * 1000) }
    public static func minutes(_ m: Int64) -> PromDuration { .init(milliseconds: m * 60_000) }
    public static func hours(_ h: Int64) -> PromDuration { .init(milliseconds: h * 3_600_000) }

    public var seconds: Double { Double(milliseconds) / 1000 }

    private static let units: [(String, Int64)] = [
        ("y", 365 * 86_400_000), ("w", 7 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000),
        ("m", 60_000), ("s", 1000), ("ms", 1),
    ]

    /// Parses the Prometheus duration syntax. Units must appear in decreasing order, each at most once.
    public init?(_ text: String) {
        if text == "0" {
            self.milliseconds = 0
            return
        }
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return nil }
        var i = 0
        var total: Int64 = 0
        var nextUnit = 0
        while i < bytes.count {
            var value: Int64 = 0
            let start = i
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(bytes[i] - 0x30))
                guard !o1, !o2 else { return nil }
                value = a
                i += 1
            }
            guard i > start else { return nil }
            var unitEnd = i
            while unitEnd < bytes.count, bytes[unitEnd] >= 0x61, bytes[unitEnd] <= 0x7A { unitEnd += 1 }
            let unitText = String(decoding: bytes[i..<unitEnd], as: UTF8.self)
            guard let index = Self.units.firstIndex(where: { $0.0 == unitText }), index >= nextUnit
            else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: Self.units[index].1)
            let (a, o2) = total.addingReportingOverflow(m)
            guard !o1, !o2 else { return nil }
            total = a
            nextUnit = index + 1
            i = unitEnd
        }
        self.milliseconds = total
    }

    /// The canonical Prometheus spelling, e.g. `1h30m`, `5m`, `500ms`, `0s`.
    public var description: String {
        if milliseconds == 0 { return "0s" }
        var rest = milliseconds
        var out = ""
        for (unit, size) in Self.units where rest >= size {
            out += "\(rest / size)\(unit)"
            rest %= size
        }
        return out
    }

    public static func < (lhs: PromDuration, rhs: PromDuration) -> Bool { lhs.milliseconds < rhs.milliseconds }
}
