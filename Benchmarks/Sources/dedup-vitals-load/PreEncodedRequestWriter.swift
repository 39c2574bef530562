import NIOCore
import NIOHTTP1

/// Sends requests that are already encoded as HTTP/1.1 bytes.
///
/// The connection handler writes `.head` (which `HTTPResponseDecoder` observes on its way out, to pair each response
/// with its request method) followed by `.body` holding the complete pre-encoded request. This handler sits next to
/// the socket: it drops the head and writes the bytes as they are, so no header is encoded during a run.
final class PreEncodedRequestWriter: ChannelOutboundHandler {
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = ByteBuffer

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head, .end:
            promise?.succeed(())
        case .body(.byteBuffer(let bytes)):
            context.write(wrapOutboundOut(bytes), promise: promise)
        case .body(.fileRegion):
            preconditionFailure("requests are pre-encoded byte buffers")
        }
    }
}
