import DedupVitalsCore
import Foundation
import NIOCore

/// Writes metric families in the Prometheus text format 0.0.4 or OpenMetrics 1.0.0, straight into the response's
/// `ByteBuffer` (no copy of the exposition, which grows with the number of series).
struct MetricsWriter: MetricsSink {
    let format: ExpositionFormat
    private var output: ByteBuffer
    /// Samples are assembled in a small scratch buffer and moved into `output` 64 KB at a time: each access to the
    /// `ByteBuffer` costs a capacity, uniqueness and exclusivity check, too much once per sample.
    private let scratch = Scratch()
    private var scratchUsed = 0

    private final class Scratch {
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 8)
        deinit { bytes.deallocate() }
    }

    init(format: ExpositionFormat, capacity: Int = 64 * 1024) {
        self.format = format
        output = ByteBufferAllocator().buffer(capacity: capacity)
    }

    /// Bytes written so far.
    var writtenBytes: Int { output.readableBytes + scratchUsed }

    /// Samples with labels from a ``LabelArena``.
    mutating func sample(_ name: BorrowedBytes, _ shared: BorrowedBytes, _ own: BorrowedBytes, _ value: Int64) {
        sample(name.bytes, shared.bytes, own.bytes, value)
    }

    mutating func sample(_ name: BorrowedBytes, _ shared: BorrowedBytes, _ own: BorrowedBytes, _ value: Double) {
        sample(name.bytes, shared.bytes, own.bytes, value)
    }

    /// An OpenMetrics exemplar: the trace of one observation behind a sample, written after the value as
    /// ` # {trace_id="…",span_id="…"} VALUE TIMESTAMP`.
    struct Exemplar {
        let text: [UInt8]

        init(_ moment: TracedMoment, value: Double) {
            var labels = "trace_id=\"\(moment.trace.traceIDHex)\""
            if let span = moment.trace.spanIDHex { labels += ",span_id=\"\(span)\"" }
            let seconds = moment.timeMs / 1000
            let millis = Int(moment.timeMs % 1000)
            let fraction = String(millis + 1000).dropFirst()
            text = Array(" # {\(labels)} \(MetricsWriter.format(value)) \(seconds).\(fraction)".utf8)
        }
    }

    /// A sample with an exemplar, which only OpenMetrics can carry: in the 0.0.4 text format the plain sample.
    mutating func sample(
        _ name: BorrowedBytes, _ shared: BorrowedBytes, _ own: BorrowedBytes, _ value: Int64, exemplar: Exemplar?
    ) {
        guard format == .openMetrics, let exemplar else { return sample(name, shared, own, value) }
        writeSample(name.bytes, shared.bytes, own.bytes, Self.maximumDecimalLength + exemplar.text.count) { target in
            let length = Self.writeDecimal(value, to: target)
            exemplar.text.withUnsafeBytes {
                UnsafeMutableRawBufferPointer(rebasing: target[length..<length + $0.count]).copyMemory(from: $0)
            }
            return length + exemplar.text.count
        }
    }

    /// Everything written so far.
    mutating func finished() -> ByteBuffer {
        flush()
        return output
    }

    private mutating func flush() {
        guard scratchUsed > 0 else { return }
        output.writeBytes(UnsafeRawBufferPointer(rebasing: scratch.bytes[0..<scratchUsed]))
        scratchUsed = 0
    }

    /// Starts a family: its HELP and TYPE (and UNIT in OpenMetrics) lines, from the catalog's declaration.
    mutating func family(_ family: MetricFamily) {
        flush()
        let name = family.familyName(in: format)
        var header = "# HELP \(name) \(Self.escapeHelp(family.help))\n# TYPE \(name) \(family.type.rawValue)\n"
        if format == .openMetrics, let unit = family.unit { header += "# UNIT \(name) \(unit)\n" }
        append(header)
    }

    /// A sample of `family`, with one value for each of its labels, in the family's order.
    mutating func sample(_ family: MetricFamily, _ labelValues: [String] = [], _ value: Int64) {
        flush()
        sampleStart(family, labelValues)
        append(String(value))
        output.writeInteger(UInt8(0x0A))
    }

    mutating func sample(_ family: MetricFamily, _ labelValues: [String] = [], _ value: Double) {
        flush()
        sampleStart(family, labelValues)
        append(Self.format(value))
        output.writeInteger(UInt8(0x0A))
    }

    /// A histogram sample set of `family`: cumulative `_bucket` samples (with `le`), then `_sum` and `_count`.
    mutating func histogram(_ family: MetricFamily, _ labelValues: [String] = [], _ histogram: BucketHistogram) {
        precondition(labelValues.count == family.labels.count, "\(family.name) takes the labels \(family.labels)")
        flush()
        let labels = Array(zip(family.labels, labelValues))
        for (index, count) in histogram.cumulativeCounts.enumerated() {
            let bound = index < histogram.bounds.count ? Self.format(histogram.bounds[index]) : "+Inf"
            line(family.name + "_bucket", labels + [("le", bound)], String(count))
        }
        line(family.name + "_sum", labels, Self.format(histogram.sum))
        line(family.name + "_count", labels, String(histogram.count))
    }

    /// Labels escaped once and reused over many samples (a series' `service`/`operation`, an `outcome` or `window`):
    /// the per-series families write thousands of samples, and escaping per sample dominated `/metrics`.
    struct LabelSet {
        /// `label="escaped value",…` without braces.
        private(set) var bytes: [UInt8] = []

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

    /// A sample named `name` (UTF-8) with the labels of `shared` then `own`, pre-escaped (`label="value",…`). The
    /// hot path of `/metrics` (39 samples per series): the bytes are borrowed, so nothing is retained per sample,
    /// and the buffer's capacity is checked once.
    mutating func sample(
        _ name: UnsafeRawBufferPointer, _ shared: UnsafeRawBufferPointer, _ own: UnsafeRawBufferPointer, _ value: Int64
    ) {
        writeSample(name, shared, own, Self.maximumDecimalLength) { Self.writeDecimal(value, to: $0) }
    }

    mutating func sample(
        _ name: UnsafeRawBufferPointer, _ shared: UnsafeRawBufferPointer, _ own: UnsafeRawBufferPointer, _ value: Double
    ) {
        if value == value.rounded(), abs(value) < 1e15 {
            sample(name, shared, own, Int64(value))
            return
        }
        var text = Self.format(value)
        text.withUTF8 { text in
            writeSample(name, shared, own, text.count) { target in
                target.copyMemory(from: UnsafeRawBufferPointer(text))
                return text.count
            }
        }
    }

    private static let maximumDecimalLength = 20

    /// `name{shared,own} ` then the value (`writeValue` returns the bytes it wrote, at most `valueLength`) and a
    /// newline.
    private mutating func writeSample(
        _ name: UnsafeRawBufferPointer, _ shared: UnsafeRawBufferPointer, _ own: UnsafeRawBufferPointer, _ valueLength: Int,
        _ writeValue: (UnsafeMutableRawBufferPointer) -> Int
    ) {
        let length = name.count + shared.count + own.count + valueLength + 5
        if scratchUsed + length > scratch.bytes.count { flush() }
        guard length <= scratch.bytes.count else {
            // Longer than the scratch buffer (label values are not limited): straight into the output.
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { target in
                Self.writeSample(name, shared, own, into: target, writeValue)
            }
            return
        }
        scratchUsed += Self.writeSample(
            name, shared, own, into: UnsafeMutableRawBufferPointer(rebasing: scratch.bytes[scratchUsed...]), writeValue)
    }

    /// Writes one sample line at the start of `target` (large enough); returns its length. Plain pointer copies: this
    /// runs for every sample of `/metrics`.
    @inline(__always)
    private static func writeSample(
        _ name: UnsafeRawBufferPointer, _ shared: UnsafeRawBufferPointer, _ own: UnsafeRawBufferPointer,
        into target: UnsafeMutableRawBufferPointer, _ writeValue: (UnsafeMutableRawBufferPointer) -> Int
    ) -> Int {
        let start = target.baseAddress!
        var offset = 0
        @inline(__always) func put(_ bytes: UnsafeRawBufferPointer) {
            if let base = bytes.baseAddress { (start + offset).copyMemory(from: base, byteCount: bytes.count) }
            offset += bytes.count
        }
        @inline(__always) func put(_ byte: UInt8) {
            start.storeBytes(of: byte, toByteOffset: offset, as: UInt8.self)
            offset += 1
        }
        put(name)
        put(UInt8(ascii: "{"))
        put(shared)
        if !shared.isEmpty, !own.isEmpty { put(UInt8(ascii: ",")) }
        put(own)
        put(UInt8(ascii: "}"))
        put(UInt8(ascii: " "))
        offset += writeValue(UnsafeMutableRawBufferPointer(start: start + offset, count: target.count - offset))
        put(0x0A)
        return offset
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
        flush()
        if format == .openMetrics { append("# EOF\n") }
    }

    private mutating func sampleStart(_ family: MetricFamily, _ values: [String]) {
        precondition(values.count == family.labels.count, "\(family.name) takes the labels \(family.labels)")
        sampleStart(family.name, Array(zip(family.labels, values)))
    }

    /// One sample line with labels written as given (histogram series).
    private mutating func line(_ name: String, _ labels: [(String, String)], _ value: String) {
        sampleStart(name, labels)
        append(value)
        output.writeInteger(UInt8(0x0A))
    }

    private mutating func sampleStart(_ name: String, _ labels: [(String, String)]) {
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
