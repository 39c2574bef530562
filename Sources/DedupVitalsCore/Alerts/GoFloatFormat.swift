/// Go's `%.4g` float formatting (what Prometheus' `humanize*` template functions print), without Foundation.
enum GoFloatFormat {
    /// Four significant digits, trailing zeros removed; exponent form (`1.5e+06`) below 1e-4 and from 1e4 on.
    static func g4(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == 0 { return "0" }
        var mantissa = abs(value)
        var exponent = 0
        while mantissa >= 10 {
            mantissa /= 10
            exponent += 1
        }
        while mantissa < 1 {
            mantissa *= 10
            exponent -= 1
        }
        var digits = Int((mantissa * 1000).rounded())
        if digits >= 10_000 {
            digits /= 10
            exponent += 1
        }
        let text = Array(String(digits))
        let sign = value < 0 ? "-" : ""
        func trimmed(_ fraction: [Character]) -> String {
            var fraction = fraction
            while fraction.last == "0" { fraction.removeLast() }
            return fraction.isEmpty ? "" : "." + String(fraction)
        }
        if exponent < -4 || exponent >= 4 {
            let magnitude = abs(exponent)
            let exponentText = (exponent < 0 ? "e-" : "e+") + (magnitude < 10 ? "0" : "") + String(magnitude)
            return sign + String(text[0]) + trimmed(Array(text[1...])) + exponentText
        }
        if exponent >= 0 {
            return sign + String(text[0...exponent]) + trimmed(Array(text[(exponent + 1)...]))
        }
        let zeros = [Character](repeating: "0", count: -exponent - 1)
        return sign + "0" + trimmed(zeros + text)
    }
}
