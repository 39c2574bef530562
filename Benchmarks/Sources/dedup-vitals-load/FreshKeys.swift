import NIOCore

/// Makes every key of every request sent unique (`--fresh-keys`), as a service that gives each attempt of each action
/// its own key would: the keys of the pre-encoded requests end in a fixed-width placeholder, and before each send the
/// placeholders of that request are overwritten with the connection's number and its send count in hexadecimal.
/// The width is fixed, so neither a JSON body nor a protobuf length changes.
struct FreshKeys: Sendable {
    static let digits = 12

    /// Byte offsets of the placeholders' digits in each pooled request.
    let offsets: [[Int]]

    /// Finds the placeholders in `requests`.
    init(requests: [ByteBuffer]) {
        let marker = Array(PlannedEvent.freshKeyPlaceholder.utf8)
        offsets = requests.map { request in
            let bytes = request.readableBytesView
            var found: [Int] = []
            var index = bytes.startIndex
            while index + marker.count <= bytes.endIndex {
                if bytes[index] == marker[0], bytes[index..<(index + marker.count)].elementsEqual(marker) {
                    found.append(index - bytes.startIndex + 1)
                    index += marker.count
                } else {
                    index += 1
                }
            }
            return found
        }
    }

    /// `request` (pool entry `index`) with its placeholders set to `value` (unique per connection and send).
    func stamp(_ request: ByteBuffer, index: Int, value: UInt64) -> ByteBuffer {
        var copy = request
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var digits = [UInt8](repeating: 0, count: Self.digits)
        var rest = value
        for position in (0..<Self.digits).reversed() {
            digits[position] = hex[Int(rest & 0xF)]
            rest >>= 4
        }
        for offset in offsets[index] { copy.setBytes(digits, at: copy.readerIndex + offset) }
        return copy
    }
}
