import DedupVitalsReporter
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdIdempotency
import Logging
import ServiceLifecycle

/// `POST /refunds`: refunds an order. Slow on purpose (``workMs`` per refund, give or take half) so that impatient
/// clients retry while the first attempt runs, and now and then failing with 503 so that retries execute again.
struct RefundService {
    var port: Int
    var dedupVitals: String
    var store: String
    var workMs: Int
    var failureRate: Double
    var clients: Int

    struct RefundRequest: Decodable {
        var order: String
        var amount: Int
    }

    struct Refund: ResponseEncodable {
        var refund_id: String
        var order: String
        var amount: Int
    }

    func run() async throws {
        var logger = Logger(label: "refund-service")
        logger.logLevel = .info
        let reporter = DecisionReporter(configuration: .init(endpoint: dedupVitals), logger: logger)
        let keys: any IdempotencyStore
        if store == "memory" {
            keys = InMemoryIdempotencyStore()
        } else {
            keys = try SQLiteIdempotencyStore(path: store)
        }

        let router = Router()
        router.group("refunds")
            .add(middleware: IdempotencyMiddleware(
                service: "payments", operation: "refund", store: keys, recorder: reporter,
                caller: { request, _ in request.headers[HTTPField.Name("X-Client-Id")!] }))
            .post { [workMs, failureRate] request, context -> Response in
                let refund = try await request.decode(as: RefundRequest.self, context: context)
                guard refund.amount > 0 else { throw HTTPError(.badRequest, message: "amount must be positive") }
                try await Task.sleep(for: .milliseconds(Int.random(in: workMs / 2...workMs * 3 / 2)))
                if Double.random(in: 0..<1) < failureRate { throw HTTPError(.serviceUnavailable, message: "payment provider timed out") }
                let body = Refund(refund_id: UUID().uuidString, order: refund.order, amount: refund.amount)
                return try body.response(from: request, context: context).withStatus(.created)
            }

        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
        var services: [any Service] = [reporter, IdempotencyJanitor(store: keys, logger: logger), app]
        if clients > 0 {
            services.append(RetryingClients(
                url: "http://127.0.0.1:\(port)", clients: clients, duration: nil, timeoutMs: workMs * 2 / 3,
                mismatchRate: 0.02, logger: logger))
        }
        logger.notice("refund service", metadata: [
            "pid": "\(ProcessInfo.processInfo.processIdentifier)", "port": "\(port)", "dedup_vitals": "\(dedupVitals)",
            "store": "\(store)",
        ])
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        let statistics = reporter.statistics
        logger.notice("reporter statistics", metadata: [
            "sent": "\(statistics.sent)", "dropped": "\(statistics.droppedTotal)", "retried": "\(statistics.batchesRetried)",
        ])
    }
}

extension Response {
    func withStatus(_ status: HTTPResponse.Status) -> Response {
        var response = self
        response.status = status
        return response
    }
}
