import AsyncHTTPClient
import CompressNIO
import Foundation
import NIOCore

/// Sends one encoded batch to `POST /v1/events` once and classifies the answer. Retries are the sender's business.
struct BatchTransport: Sendable {
    let client: HTTPClient
    let url: String
    let bearerToken: String?
    let timeout: Duration

    /// One batch ready to go: its JSON, the same bytes on every attempt, and the key that makes retries safe.
    struct Payload: Sendable {
        let json: ByteBuffer
        var gzip: ByteBuffer?
        let idempotencyKey: String
        let eventCount: Int
        let oldestTimestamp: Double

        init(events: [DecisionEvent], compress: Bool) {
            var json = ByteBufferAllocator().buffer(capacity: events.count * 160 + 2)
            BatchEncoder.encode(events, into: &json)
            self.json = json
            var source = json
            self.gzip = compress ? try? source.compress(with: .gzip()) : nil
            self.idempotencyKey = UUID().uuidString.lowercased()
            self.eventCount = events.count
            self.oldestTimestamp = events.compactMap(\.timestamp).min() ?? Date().timeIntervalSince1970
        }
    }

    func deliver(_ payload: Payload, compressed: Bool) async -> DeliveryResult {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Idempotency-Key", value: payload.idempotencyKey)
        request.headers.add(name: "User-Agent", value: "DedupVitalsReporter/1")
        if let bearerToken { request.headers.add(name: "Authorization", value: "Bearer \(bearerToken)") }
        let useGzip = compressed && payload.gzip != nil
        if useGzip, let gzip = payload.gzip {
            request.headers.add(name: "Content-Encoding", value: "gzip")
            request.body = .bytes(gzip)
        } else {
            request.body = .bytes(payload.json)
        }
        do {
            let response = try await client.execute(request, timeout: .init(timeout))
            let body = try await response.body.collect(upTo: 64 * 1024)
            let retryAfter = RetryPolicy.parseRetryAfter(response.headers.first(name: "Retry-After"))
            return DeliveryResult.classify(
                status: Int(response.status.code), body: String(buffer: body), retryAfter: retryAfter,
                wasCompressed: useGzip)
        } catch {
            return .retry(retryAfter: nil, reason: String(describing: error))
        }
    }
}
