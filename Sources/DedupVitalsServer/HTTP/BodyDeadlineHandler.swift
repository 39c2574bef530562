import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Enforces `limits.body_read_timeout` in the channel pipeline: once a request head with a body arrives, the rest
/// of its body must follow within the timeout, or the request's body stream fails with ``BodyReadTimeout``
/// (``BodyReader`` answers 408 and the connection is closed).
///
/// A timer on the connection's event loop costs next to nothing against a watchdog task per request (a task and a
/// thread hop each). It is armed only when a read ends with a body still incomplete: a request whose head, body and
/// end arrive in one read (every small POST) never schedules one. Scheduling and cancelling a timer per request was
/// ~3 % of the service's CPU for single-event POSTs (docs/performance.md). The deadline still counts from the head.
final class BodyDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    /// The error the body stream of a late request fails with.
    struct BodyReadTimeout: Error {}

    private let timeout: TimeAmount
    /// When the body of the request being read must be complete; nil when no body is awaited.
    private var bodyDeadline: NIODeadline?
    private var timer: Scheduled<Void>?
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
                bodyDeadline = .now() + timeout
            }
        case .body:
            if expired { return }
        case .end:
            if expired { return }
            disarm()
        }
        context.fireChannelRead(data)
    }

    /// The read is over: a body still awaited gets its timer now.
    func channelReadComplete(context: ChannelHandlerContext) {
        // `expire` clears the deadline: a request whose timer fired gets no second one.
        if let bodyDeadline, timer == nil {
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            timer = context.eventLoop.scheduleTask(deadline: bodyDeadline) {
                let (handler, context) = loopBound.value
                handler.expire(context: context)
            }
        }
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
    }

    private func disarm() {
        bodyDeadline = nil
        timer?.cancel()
        timer = nil
    }

    private func expire(context: ChannelHandlerContext) {
        bodyDeadline = nil
        timer = nil
        expired = true
        context.fireErrorCaught(BodyReadTimeout())
    }
}
