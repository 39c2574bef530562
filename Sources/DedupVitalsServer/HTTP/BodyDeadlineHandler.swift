import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Enforces `limits.body_read_timeout` in the channel pipeline: once a request head with a body arrives, the rest
/// of its body must follow within the timeout, or the request's body stream fails with ``BodyReadTimeout``
/// (``BodyReader`` answers 408 and the connection is closed).
///
/// A timer on the connection's event loop, armed at the head and cancelled at the end of the body, costs next to
/// nothing; a watchdog task per request would cost a task and a thread hop each, a large share of the
/// throughput at one event per request.
final class BodyDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    /// The error the body stream of a late request fails with.
    struct BodyReadTimeout: Error {}

    private let timeout: TimeAmount
    private var deadline: Scheduled<Void>?
    /// The timer fired: the rest of this request is dropped and the connection is closing.
    private var expired = false

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch part {
        case .head(let head):
            expired = false
            if head.method == .post || head.method == .put || head.method == .patch {
                let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                deadline = context.eventLoop.scheduleTask(in: timeout) {
                    let (handler, context) = loopBound.value
                    handler.expire(context: context)
                }
            }
        case .body:
            if expired { return }
        case .end:
            if expired { return }
            deadline?.cancel()
            deadline = nil
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    private func expire(context: ChannelHandlerContext) {
        deadline = nil
        expired = true
        context.fireErrorCaught(BodyReadTimeout())
    }
}
