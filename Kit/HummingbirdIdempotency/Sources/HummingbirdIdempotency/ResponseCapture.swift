import HTTPTypes
import Hummingbird
import Synchronization

/// Reads a response body to the end so that it can be stored, and gives it back as a buffer to send.
enum ResponseCapture {
    private final class Sink: Sendable {
        let buffer = Mutex(ByteBuffer())
    }

    private struct Writer: ResponseBodyWriter {
        let sink: Sink

        mutating func write(_ buffer: ByteBuffer) async throws {
            var buffer = buffer
            sink.buffer.withLock { $0.writeBuffer(&buffer) }
        }

        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }

    /// The whole body of `response`; the response's body is replaced by the collected bytes.
    static func collect(_ response: inout Response) async throws -> ByteBuffer {
        let sink = Sink()
        try await response.body.write(Writer(sink: sink))
        let body = sink.buffer.withLock { $0 }
        response.body = ResponseBody(byteBuffer: body)
        return body
    }

    /// Header fields that describe one transfer rather than the response, so are not replayed as stored.
    static let transferFields: Set<HTTPField.Name> = [
        .contentLength, .transferEncoding, .connection, .date, .idempotentReplayed,
    ]
}
