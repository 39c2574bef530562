/// Writes bytes into memory reserved beforehand, with no capacity or uniqueness check per byte (key-log encoding, on
/// the single writer). The caller reserves enough: see ``KeyLog/maximumEntrySize``.
struct ByteWriter {
    private let base: UnsafeMutablePointer<UInt8>
    /// Bytes written so far.
    private(set) var count = 0

    init(_ base: UnsafeMutablePointer<UInt8>) {
        self.base = base
    }

    mutating func byte(_ value: UInt8) {
        base[count] = value
        count += 1
    }

    /// LEB128: 7 bits per byte, least significant first (at most 10 bytes).
    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            byte(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        byte(UInt8(value))
    }

    /// The integer's bytes in memory order (callers pass `.littleEndian` or `.bigEndian`).
    mutating func raw<T: FixedWidthInteger>(_ value: T) {
        UnsafeMutableRawPointer(base + count).storeBytes(of: value, as: T.self)
        count += MemoryLayout<T>.size
    }

    /// Appends to `bytes` what `body` writes, reserving `maximum` bytes for it.
    static func append(to bytes: inout [UInt8], maximum: Int, _ body: (inout ByteWriter) -> Void) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maximum) { buffer in
            var writer = ByteWriter(buffer.baseAddress!)
            body(&writer)
            bytes.append(contentsOf: UnsafeBufferPointer(start: buffer.baseAddress, count: writer.count))
        }
    }
}
