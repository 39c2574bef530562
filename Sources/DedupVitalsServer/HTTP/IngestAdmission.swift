import DedupVitalsCore

/// The per-caller checks of an ingest request once its events are known: service scope (403) and rate limit (429),
/// plus the concurrency bound (503) before the body is read.
struct IngestAdmission: Sendable {
    let pressure: IngestPressure
    let counters: LimitCounters
    private let rateLimiter = TokenBucketLimiter()

    init(limits: ServiceConfig.Limits, counters: LimitCounters) {
        pressure = IngestPressure(maxRequests: limits.maxInFlightRequests, maxBytes: limits.maxInFlightBytes)
        self.counters = counters
    }

    /// A slot for one more request, or a 503 when the service is at its bound.
    func enter() throws(APIError) -> IngestPressure.Ticket {
        guard let ticket = pressure.admit() else {
            counters.recordOverloadRejection()
            throw Self.overloaded("concurrent ingest requests")
        }
        return ticket
    }

    /// Refuses the whole batch when the caller may not report one of its services, or is over its rate limit.
    func check(_ events: [Event], caller: Credentials.Caller?) throws(APIError) {
        guard let caller else { return }
        if let index = events.firstIndex(where: { !caller.mayReport($0.service) }) {
            throw APIError(
                .forbidden, code: "forbidden_service",
                message: "token \(caller.name) may not report events of service \(events[index].service); nothing was stored",
                index: index, field: "service")
        }
        if let limit = caller.rateLimit, let wait = rateLimiter.take(events.count, for: caller.name, limit: limit) {
            counters.recordRateLimitRejection()
            throw APIError(
                .tooManyRequests, code: "rate_limited",
                message: "token \(caller.name) is over its rate limit of \(limit.eventsPerSecond) events/s; retry later",
                retryAfter: wait)
        }
    }

    static func overloaded(_ what: String) -> APIError {
        APIError(.serviceUnavailable, code: "overloaded", message: "too many \(what) in flight; retry later", retryAfter: 1)
    }
}
