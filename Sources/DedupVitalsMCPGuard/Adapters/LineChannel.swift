#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Newline-delimited messages over a file descriptor (the MCP stdio transport), read and written with plain
/// `read(2)` / `write(2)`: no buffering the relay would have to flush, and exact bytes.
public struct LineReader {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false

    public init(fd: Int32) { self.fd = fd }

    /// The next line without its `\n` (a `\r` before it stays, as every other byte); the bytes after the last `\n`
    /// at end-of-file; nil at end-of-file.
    public mutating func next() -> ArraySlice<UInt8>? {
        var scanned = start
        while true {
            if let newline = buffer[scanned...].firstIndex(of: 0x0A) {
                let line = buffer[start..<newline]
                start = newline + 1
                return line
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                defer { start = buffer.count }
                return buffer[start...]
            }
            if start > 0 {
                buffer.removeFirst(start)
                start = 0
            }
            scanned = buffer.count
            fill()
        }
    }

    private mutating func fill() {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                buffer += chunk[..<count]
                return
            }
            if count < 0, errno == EINTR { continue }
            atEnd = true
            return
        }
    }
}

/// Writes whole buffers to a file descriptor; false when it is closed (EPIPE) or fails.
public enum LineWriter {
    public static func writeAll(_ fd: Int32, _ bytes: some Collection<UInt8>) -> Bool {
        let data = Array(bytes)
        var offset = 0
        while offset < data.count {
            let count = data[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += count
        }
        return true
    }
}
