import Foundation

/// Writes metric families in the Prometheus text format 0.0.4 or OpenMetrics 1.0.0.
struct MetricsWriter {
    enum FamilyType: String {
        case counter, gauge, histogram
    }

    let format: ExpositionFormat
    private(set) var output: [UInt8] = []

    init(format: ExpositionFormat, capacity: Int = 64 * 1024) {
        self.format = format
        output.reserveCapacity(capacity)
    }

    /// Starts a family. `name` is the sample name (counters end in `_total`).
    mutating func family(_ name: String, _ type: FamilyType, _ help: String) {
        var familyName = name
        if format == .openMetrics, type == .counter, name.hasSuffix("_total") { familyName = String(name.dropLast(6)) }
        append("# HELP \(familyName) \(Self.escapeHelp(help))\n# TYPE \(familyName) \(type.rawValue)\n")
    }

    mutating func sample(_ name: String, _ labels: KeyValuePairs<String, String>, _ value: Int64) {
        sampleStart(name, labels)
        append(String(value))
        output.append(0x0A)
    }

    mutating func sample(_ name: String, _ labels: KeyValuePairs<String, String>, _ value: Double) {
        sampleStart(name, labels)
        append(Self.format(value))
        output.append(0x0A)
    }

    /// Labels escaped once and reused over many samples (a series' `service`/`operation`, an `outcome` or `window`):
    /// the per-series families write thousands of samples, and escaping per sample dominated `/metrics`.
    struct LabelSet {
        /// `label="escaped value",…` without braces.
        fileprivate private(set) var bytes: [UInt8] = []

        init(_ labels: KeyValuePairs<String, String>) {
            for (label, value) in labels {
                if !bytes.isEmpty { bytes.append(UInt8(ascii: ",")) }
                bytes.append(contentsOf: label.utf8)
                bytes.append(contentsOf: [UInt8(ascii: "="), UInt8(ascii: "\"")])
                MetricsWriter.appendEscapedLabelValue(value, to: &bytes)
                bytes.append(UInt8(ascii: "\""))
            }
        }
    }

    /// A sample named `name` (UTF-8) with the labels of `shared` then `own`, pre-escaped.
    mutating func sample(_ name: [UInt8], _ shared: LabelSet, _ own: LabelSet, _ value: Int64) {
        sampleStart(name, shared, own)
        appendDecimal(value)
        output.append(0x0A)
    }

    mutating func sample(_ name: [UInt8], _ shared: LabelSet, _ own: LabelSet, _ value: Double) {
        sampleStart(name, shared, own)
        if value == 0 {
            output.append(UInt8(ascii: "0"))
        } else {
            append(Self.format(value))
        }
        output.append(0x0A)
    }

    /// Ends the exposition (`# EOF` in OpenMetrics).
    mutating func finish() {
        if format == .openMetrics { append("# EOF\n") }
    }

    private mutating func sampleStart(_ name: String, _ labels: KeyValuePairs<String, String>) {
        append(name)
        if !labels.isEmpty {
            output.append(UInt8(ascii: "{"))
            var first = true
            for (label, value) in labels {
                if !first { output.append(UInt8(ascii: ",")) }
                first = false
                append(label)
                output.append(UInt8(ascii: "="))
                output.append(UInt8(ascii: "\""))
                appendEscapedLabelValue(value)
                output.append(UInt8(ascii: "\""))
            }
            output.append(UInt8(ascii: "}"))
        }
        output.append(UInt8(ascii: " "))
    }

    private mutating func sampleStart(_ name: [UInt8], _ shared: LabelSet, _ own: LabelSet) {
        appendBytes(name)
        output.append(UInt8(ascii: "{"))
        appendBytes(shared.bytes)
        if !shared.bytes.isEmpty, !own.bytes.isEmpty { output.append(UInt8(ascii: ",")) }
        appendBytes(own.bytes)
        output.append(UInt8(ascii: "}"))
        output.append(UInt8(ascii: " "))
    }

    /// Appends through a buffer pointer: `append(contentsOf:)` takes its argument owned, which costs a retain and
    /// a release of the source array per call (a third of `/metrics` at 10,000 series).
    @inline(__always)
    private mutating func appendBytes(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { output.append(contentsOf: $0) }
    }

    /// Appends `value` in decimal without going through a String.
    private mutating func appendDecimal(_ value: Int64) {
        if value < 0 { output.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = digits.count
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            output.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }

    private mutating func append(_ text: String) {
        output.append(contentsOf: text.utf8)
    }

    private mutating func appendEscapedLabelValue(_ value: String) {
        Self.appendEscapedLabelValue(value, to: &output)
    }

    private static func appendEscapedLabelValue(_ value: String, to output: inout [UInt8]) {
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): output.append(contentsOf: [0x5C, 0x5C])
            case UInt8(ascii: "\""): output.append(contentsOf: [0x5C, 0x22])
            case 0x0A: output.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            default: output.append(byte)
            }
        }
    }

    static func escapeHelp(_ help: String) -> String {
        help.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// Go-compatible float text: `NaN`, `+Inf`, `-Inf`, otherwise Swift's shortest round-trip form.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
