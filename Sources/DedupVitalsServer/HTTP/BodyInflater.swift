import CZlib
import HTTPTypes
import NIOCore

/// Inflates a gzip or deflate request body under the body limit: the decompressed size counts against
/// `max_body_bytes` and the in-flight byte bound as it grows, and inflating stops as soon as it is over, so a
/// decompression bomb costs at most the limit in memory and the work of producing it (413).
///
/// `deflate` is the zlib format (RFC 9110); a raw deflate stream, which some clients send instead, is accepted
/// too (told apart by the zlib header check). Concatenated gzip members are one body, as gzip(1) reads them.
struct BodyInflater {
    let limit: Int
    let ticket: IngestPressure.Ticket
    let counters: LimitCounters

    private static let chunk = 64 * 1024

    func inflate(_ input: ByteBuffer, encoding: ContentEncoding) throws(APIError) -> ByteBuffer {
        guard encoding != .identity else { return input }
        guard input.readableBytes > 0 else { return input }
        var stream = z_stream()
        let windowBits: Int32 =
            switch encoding {
            case .gzip: 15 + 16
            default: Self.hasZlibHeader(input) ? 15 : -15
            }
        guard inflateInit2_(&stream, windowBits, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw APIError(.internalServerError, code: "internal", message: "zlib could not be initialised")
        }
        defer { inflateEnd(&stream) }
        var output = ByteBuffer()
        let result: Result<Void, APIError> = input.withUnsafeReadableBytes { raw in
            stream.next_in = UnsafeMutablePointer(mutating: raw.bindMemory(to: Bytef.self).baseAddress!)
            stream.avail_in = UInt32(raw.count)
            while true {
                var code: Int32 = Z_OK
                let written = output.writeWithUnsafeMutableBytes(minimumWritableBytes: Self.chunk) { out in
                    let space = min(out.count, Self.chunk)
                    stream.next_out = out.bindMemory(to: Bytef.self).baseAddress!
                    stream.avail_out = UInt32(space)
                    code = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return space - Int(stream.avail_out)
                }
                guard output.readableBytes <= limit else { return .failure(BodyReader.tooLarge(limit, decompressed: true)) }
                guard ticket.reserve(written) else {
                    counters.recordOverloadRejection()
                    return .failure(IngestPressure.overloaded("buffered request bodies"))
                }
                switch code {
                case Z_STREAM_END:
                    guard stream.avail_in > 0 else { return .success(()) }
                    // Another gzip member follows (anything else fails as invalid data on the next round).
                    guard encoding == .gzip, inflateReset(&stream) == Z_OK else {
                        return .failure(invalid(encoding, "data after the end of the stream"))
                    }
                case Z_OK:
                    continue
                case Z_BUF_ERROR where stream.avail_in == 0:
                    return .failure(invalid(encoding, "the stream is truncated"))
                case Z_BUF_ERROR:
                    continue
                default:
                    let reason = stream.msg.map { String(cString: $0) } ?? "zlib error \(code)"
                    return .failure(invalid(encoding, reason))
                }
            }
        }
        try result.get()
        return output
    }

    private func invalid(_ encoding: ContentEncoding, _ reason: String) -> APIError {
        APIError(.badRequest, code: "invalid_encoding", message: "the \(encoding) body cannot be decompressed: \(reason)")
    }

    /// Whether the first two bytes are a zlib header (CMF/FLG: deflate method, check bits).
    private static func hasZlibHeader(_ input: ByteBuffer) -> Bool {
        guard let cmf = input.getInteger(at: input.readerIndex, as: UInt8.self),
            let flg = input.getInteger(at: input.readerIndex + 1, as: UInt8.self)
        else { return false }
        return cmf & 0x0F == 8 && (UInt16(cmf) << 8 | UInt16(flg)) % 31 == 0
    }
}
