import DedupVitalsCore

/// How numbers, ratios, times and ages are written on the dashboard.
public enum Formatting {
    /// Duplicate-ratio thresholds: below `warning` is green, below `critical` yellow, above red.
    public static let warningRatio = 0.05
    public static let criticalRatio = 0.15

    /// The colour of a duplicate ratio.
    public static func ratioColor(_ ratio: Double) -> TextStyle.Color {
        ratio < warningRatio ? .green : ratio < criticalRatio ? .yellow : .red
    }

    /// `4.2%`, `100%`, `0.0%`.
    public static func percent(_ ratio: Double) -> String {
        let value = ratio * 100
        if value >= 99.95 { return "100%" }
        return String(format1: value) + "%"
    }

    /// Rates: `0.25`, `12.5`, `1234`, `12.3k`.
    public static func rate(_ perSecond: Double) -> String {
        switch perSecond {
        case ..<10: String(format2: perSecond)
        case ..<1000: String(format1: perSecond)
        case ..<100_000: String(Int(perSecond.rounded()))
        default: String(format1: perSecond / 1000) + "k"
        }
    }

    /// Counts: `1234`, `12.3k`, `4.5M`.
    public static func count(_ value: Int64) -> String {
        switch value {
        case ..<100_000: String(value)
        case ..<10_000_000: String(format1: Double(value) / 1000) + "k"
        default: String(format1: Double(value) / 1_000_000) + "M"
        }
    }

    /// Ages: `42s`, `12m`, `3h05m`, `3h`, `2d04h`, `1d`.
    public static func age(milliseconds: Int64) -> String {
        let seconds = max(0, milliseconds / 1000)
        switch seconds {
        case ..<60: return "\(seconds)s"
        case ..<3600: return "\(seconds / 60)m"
        case ..<86_400:
            let minutes = (seconds % 3600) / 60
            return "\(seconds / 3600)h" + (minutes == 0 ? "" : twoDigits(minutes) + "m")
        default:
            let hours = (seconds % 86_400) / 3600
            return "\(seconds / 86_400)d" + (hours == 0 ? "" : twoDigits(hours) + "h")
        }
    }

    /// Durations from seconds: `120ms`, `4.2s`, `12m`, `3h05m`.
    public static func duration(_ seconds: Double) -> String {
        if seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
        if seconds < 60 { return String(format1: seconds) + "s" }
        return age(milliseconds: Int64(seconds * 1000))
    }

    /// `HH:MM:SS` of a Unix time in ms, shifted by `utcOffsetSeconds`.
    public static func clock(milliseconds: Int64, utcOffsetSeconds: Int) -> String {
        let seconds = (milliseconds / 1000 + Int64(utcOffsetSeconds)) % 86_400
        let day = seconds < 0 ? seconds + 86_400 : seconds
        return twoDigits(day / 3600) + ":" + twoDigits((day % 3600) / 60) + ":" + twoDigits(day % 60)
    }

    /// A refresh interval: `2s`, `0.5s`.
    public static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value))s" : String(format2: value) + "s"
    }

    /// The duration of a window label such as `5m` in seconds (nil when unreadable).
    public static func seconds(ofWindow label: String) -> Double? {
        PromDuration(label).map(\.seconds).flatMap { $0 > 0 ? $0 : nil }
    }

    /// An RFC 3339 timestamp in ms since the Unix epoch.
    public static func milliseconds(rfc3339 text: String) -> Int64? {
        RFC3339.parseMilliseconds(Array(text.utf8))
    }

    /// RFC 3339 text of ms since the Unix epoch.
    public static func rfc3339(milliseconds: Int64) -> String {
        RFC3339.format(milliseconds: milliseconds)
    }

    private static func twoDigits(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
}

extension String {
    /// One decimal, rounded half up, without Foundation's locale-dependent formatting.
    init(format1 value: Double) {
        let tenths = Int64((value * 10).rounded())
        self = "\(tenths / 10).\(abs(tenths % 10))"
    }

    /// Two decimals.
    init(format2 value: Double) {
        let hundredths = Int64((value * 100).rounded())
        let fraction = abs(hundredths % 100)
        self = "\(hundredths / 100)." + (fraction < 10 ? "0\(fraction)" : "\(fraction)")
    }
}
