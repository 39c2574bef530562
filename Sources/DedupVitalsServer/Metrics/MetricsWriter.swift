import Foundation
import NIOCore

/// Writes metric families in the Prometheus text format 0.0.4 or OpenMetrics 1.0.0, straight into the response's
/// `ByteBuffer` (no copy of a 30 MB exposition at 10,000 series).
struct MetricsWriter {
    enum FamilyType: String {
        case counter, gauge, histogram
    }

    let format: ExpositionFormat
    private(set) var output: ByteBuffer

    init(format: ExpositionFormat, capacity: Int = 64 * 1024) {
        self.format = format
        output = ByteBufferAllocator().buffer(capacity: capacity)
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
        output.writeInteger(UInt8(0x0A))
    }

    mutating func sample(_ name: String, _ labels: KeyValuePairs<String, String>, _ value: Double) {
        sampleStart(name, labels)
        append(Self.format(value))
        output.writeInteger(UInt8(0x0A))
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

    /// A sample named `name` (UTF-8) with the labels of `shared` then `own`, pre-escaped. The hot path of
    /// `/metrics` (39 samples per series): one capacity check, then plain copies.
    mutating func sample(_ name: [UInt8], _ shared: LabelSet, _ own: LabelSet, _ value: Int64) {
        writeSample(name, shared, own, Self.maximumDecimalLength) { Self.writeDecimal(value, to: $0) }
    }

    mutating func sample(_ name: [UInt8], _ shared: LabelSet, _ own: LabelSet, _ value: Double) {
        if value == value.rounded(), abs(value) < 1e15 {
            sample(name, shared, own, Int64(value))
            return
        }
        let text = Array(Self.format(value).utf8)
        writeSample(name, shared, own, text.count) { target in
            text.withUnsafeBytes { target.copyMemory(from: $0) }
            return text.count
        }
    }

    private static let maximumDecimalLength = 20

    /// `name{shared,own} ` then the value (`writeValue` returns the bytes it wrote, at most `valueLength`) and a
    /// newline.
    private mutating func writeSample(
        _ name: [UInt8], _ shared: LabelSet, _ own: LabelSet, _ valueLength: Int,
        _ writeValue: (UnsafeMutableRawBufferPointer) -> Int
    ) {
        let length = name.count + shared.bytes.count + own.bytes.count + valueLength + 5
        output.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { target in
            var offset = 0
            func put(_ bytes: [UInt8]) {
                bytes.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: target[offset...]).copyMemory(from: $0) }
                offset += bytes.count
            }
            func put(_ byte: UInt8) {
                target[offset] = byte
                offset += 1
            }
            put(name)
            put(UInt8(ascii: "{"))
            put(shared.bytes)
            if !shared.bytes.isEmpty, !own.bytes.isEmpty { put(UInt8(ascii: ",")) }
            put(own.bytes)
            put(UInt8(ascii: "}"))
            put(UInt8(ascii: " "))
            offset += writeValue(UnsafeMutableRawBufferPointer(rebasing: target[offset...]))
            put(0x0A)
            return offset
        }
    }

    /// Writes `value` in decimal at the start of `target`; returns the length.
    private static func writeDecimal(_ value: Int64, to target: UnsafeMutableRawBufferPointer) -> Int {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch, on the stack
        return withUnsafeMutableBytes(of: &digits) { scratch in
            var magnitude = value.magnitude
            var start = scratch.count
            repeat {
                start -= 1
                scratch[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            var length = 0
            if value < 0 {
                target[0] = UInt8(ascii: "-")
                length = 1
            }
            let count = scratch.count - start
            UnsafeMutableRawBufferPointer(rebasing: target[length..<length + count])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: scratch[start...]))
            return length + count
        }
    }

    /// Ends the exposition (`# EOF` in OpenMetrics).
    mutating func finish() {
        if format == .openMetrics { append("# EOF\n") }
    }

    private mutating func sampleStart(_ name: String, _ labels: KeyValuePairs<String, String>) {
        append(name)
        if !labels.isEmpty {
            var text: [UInt8] = [UInt8(ascii: "{")]
            var first = true
            for (label, value) in labels {
                if !first { text.append(UInt8(ascii: ",")) }
                first = false
                text.append(contentsOf: label.utf8)
                text.append(contentsOf: [UInt8(ascii: "="), UInt8(ascii: "\"")])
                Self.appendEscapedLabelValue(value, to: &text)
                text.append(UInt8(ascii: "\""))
            }
            text.append(UInt8(ascii: "}"))
            output.writeBytes(text)
        }
        output.writeInteger(UInt8(ascii: " "))
    }

    private mutating func append(_ text: String) {
        output.writeString(text)
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
