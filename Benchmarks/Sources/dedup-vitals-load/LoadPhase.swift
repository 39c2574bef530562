import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// One measured phase: `connections` keep-alive connections each sending `plan`'s requests in a closed loop.
struct LoadPhase {
    var host: String
    var port: Int
    var connections: Int
    var plan: RequestPlan
    /// Seconds before counting starts (connections open and the service warms up).
    var warmup: Double
    /// Seconds counted. Ignored when `requests` is set.
    var duration: Double
    /// Total requests to send (over all connections) instead of a duration; every answer counts.
    var requests: Int?

    struct Outcome {
        var result: ConnectionResult
        /// Length of the counted window, seconds.
        var seconds: Double
        var requestsPerSecond: Double { Double(result.ok) / seconds }
    }

    func run(on group: any EventLoopGroup) throws -> Outcome {
        let start = NIODeadline.now()
        let timing: LoadConnectionHandler.Timing
        var budget: RequestBudget?
        if let requests {
            budget = RequestBudget(requests)
            timing = .init(measureFrom: start, stopAt: .distantFuture)
        } else {
            let measureFrom = start + .nanoseconds(Int64(warmup * 1e9))
            timing = .init(measureFrom: measureFrom, stopAt: measureFrom + .nanoseconds(Int64(duration * 1e9)))
        }
        var finished: [EventLoopFuture<ConnectionResult>] = []
        for index in 0..<connections {
            let loop = group.next()
            let done = loop.makePromise(of: ConnectionResult.self)
            let plan = self.plan
            let startIndex = index * max(1, plan.requests.count / connections)
            let connect = ClientBootstrap(group: loop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { [budget] channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handlers = channel.pipeline.syncOperations
                        try handlers.addHandler(PreEncodedRequestWriter())
                        try handlers.addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)))
                        try handlers.addHandler(
                            LoadConnectionHandler(
                                plan: plan, timing: timing, budget: budget, startIndex: startIndex, connection: index,
                                done: done))
                    }
                }
                .connect(host: host, port: port)
            connect.whenFailure { done.fail($0) }
            finished.append(done.futureResult)
        }
        var total = ConnectionResult()
        for future in finished {
            total.add(try future.wait())
        }
        let end = requests == nil ? timing.stopAt : NIODeadline.now()
        let seconds = Double((end - timing.measureFrom).nanoseconds) / 1e9
        return Outcome(result: total, seconds: seconds)
    }
}
