import DedupVitalsCore
import HTTPTypes

/// The per-caller checks of a batch once its events are known: the token's service scope (403) and its rate
/// limit (429).
struct CallerAdmission: Sendable {
    let counters: LimitCounters
    private let rateLimiter = TokenBucketLimiter()

    init(counters: LimitCounters) {
        self.counters = counters
    }

    /// Refuses the whole batch when the caller may not report one of its services.
    func authorise(_ events: [Event], caller: Credentials.Caller?) throws(APIError) {
        guard let caller, let index = events.firstIndex(where: { !caller.mayReport($0.service) }) else { return }
        throw APIError(
            .forbidden, code: "forbidden_service",
            message: "token \(caller.name) may not report events of service \(events[index].service); nothing was stored",
            index: index, field: "service")
    }

    /// Refuses the whole batch when the caller is over its rate limit.
    func admitRate(_ events: [Event], caller: Credentials.Caller?) throws(APIError) {
        guard let caller, let limit = caller.rateLimit,
            let wait = rateLimiter.take(events.count, for: caller.name, limit: limit)
        else { return }
        counters.recordRateLimitRejection()
        throw APIError(
            .tooManyRequests, code: "rate_limited",
            message: "token \(caller.name) is over its rate limit of \(limit.eventsPerSecond) events/s; retry later",
            retryAfter: wait)
    }
}
