import NIOCore
import NIOHTTP1

/// Drives one keep-alive connection in a closed loop: send a request, wait for the whole answer, check it, record
/// its latency, send the next one — until the phase's stop time or the shared request budget is spent.
final class LoadConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    struct Timing {
        /// Answers to requests sent before this are not counted (warm-up).
        var measureFrom: NIODeadline
        /// No request is sent after this; answers completing after it are not counted.
        var stopAt: NIODeadline
    }

    private let plan: RequestPlan
    private let timing: Timing
    private let budget: RequestBudget?
    private let done: EventLoopPromise<ConnectionResult>
    private var nextRequest: Int
    private var sentAt = NIODeadline.now()
    private var status: UInt = 0
    private var body: ByteBuffer?
    private var bodyBytes = 0
    private var result = ConnectionResult()
    private var finished = false

    /// Under `--fresh-keys`: this connection's number in the high bits, its sends in the low ones.
    private var freshKeyStamp: UInt64

    init(
        plan: RequestPlan, timing: Timing, budget: RequestBudget?, startIndex: Int, connection: Int,
        done: EventLoopPromise<ConnectionResult>
    ) {
        self.plan = plan
        self.freshKeyStamp = UInt64(connection) << 32
        self.timing = timing
        self.budget = budget
        self.nextRequest = startIndex % plan.requests.count
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        sendNext(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = head.status.code
            body = nil
            bodyBytes = 0
        case .body(var chunk):
            bodyBytes += chunk.readableBytes
            if plan.expectedBody != nil || status != plan.expectedStatus {
                if body == nil { body = chunk } else { body!.writeBuffer(&chunk) }
            }
        case .end:
            let now = NIODeadline.now()
            if sentAt >= timing.measureFrom, now <= timing.stopAt {
                if status == plan.expectedStatus, plan.expectedBody == nil || (body ?? ByteBuffer()) == plan.expectedBody {
                    result.ok += 1
                    result.bodyBytes += bodyBytes
                    _ = result.latencyMicros.record(UInt64(max(0, (now - sentAt).nanoseconds / 1000)))
                } else {
                    fail("HTTP \(status): \(body.map { String(buffer: $0) } ?? "")")
                }
            } else if status != plan.expectedStatus {
                fail("HTTP \(status) (outside the measured window): \(body.map { String(buffer: $0) } ?? "")")
            }
            sendNext(context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !finished {
            fail("the server closed the connection")
            finish(context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail("\(error)")
        finish(context: context)
    }

    private func sendNext(context: ChannelHandlerContext) {
        guard NIODeadline.now() < timing.stopAt, budget?.take() ?? true else {
            finish(context: context)
            return
        }
        var request = plan.requests[nextRequest]
        if let freshKeys = plan.freshKeys {
            request = freshKeys.stamp(request, index: nextRequest, value: freshKeyStamp)
            freshKeyStamp += 1
        }
        nextRequest += 1
        if nextRequest == plan.requests.count { nextRequest = 0 }
        sentAt = NIODeadline.now()
        context.write(wrapOutboundOut(.head(plan.head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(request))), promise: nil)
    }

    private func fail(_ description: String) {
        result.failures += 1
        if result.firstFailure == nil { result.firstFailure = String(description.prefix(300)) }
    }

    private func finish(context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        done.succeed(result)
        context.close(promise: nil)
    }
}
