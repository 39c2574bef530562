/// What to do after one delivery attempt.
public enum DeliveryOutcome: Sendable, Equatable {
    /// 2xx: delivered.
    case success
    /// 408, 429, 5xx or a connection error: try again later (`retryAfterMs` from a `Retry-After` header).
    case retry(retryAfterMs: Int64?)
    /// 410 Gone: the receiver asks never to be sent to again; its pending deliveries are disabled.
    case gone
    /// Any other status (other 4xx, 1xx, 3xx: redirects are not followed): fails at once.
    case failed
}

/// The retry schedule of webhook deliveries (pure; randomness is passed in).
///
/// The n-th retry waits `min(maxDelay, initialDelay × 2^(n-1))`, with "equal jitter": half of that plus a random part
/// of the other half. A `Retry-After` is honoured (capped at `maxRetryAfterMs`, at least `initialDelayMs`).
/// A notification that could not be delivered within `giveUpAfterMs` of its creation fails.
public struct DeliveryPolicy: Sendable, Equatable {
    public var initialDelayMs: Int64 = 1_000
    public var maxDelayMs: Int64 = 10 * 60_000
    public var maxRetryAfterMs: Int64 = 60 * 60_000
    public var giveUpAfterMs: Int64 = 24 * 3_600_000

    public init() {}

    /// Classifies an HTTP status; `retryAfter` is the raw `Retry-After` header.
    public static func outcome(status: Int, retryAfter: String?, nowMs: Int64) -> DeliveryOutcome {
        switch status {
        case 200..<300: .success
        case 408, 429, 500..<600: .retry(retryAfterMs: retryAfter.flatMap { RetryAfter.delayMs($0, nowMs: nowMs) })
        case 410: .gone
        default: .failed
        }
    }

    /// The backoff before the next attempt after `failedAttempts` failures; `random` in 0..<1.
    public func backoffMs(failedAttempts: Int, random: Double) -> Int64 {
        var delay = initialDelayMs
        for _ in 1..<max(1, failedAttempts) where delay < maxDelayMs { delay *= 2 }
        delay = min(delay, maxDelayMs)
        let half = delay / 2
        return half + Int64(Double(delay - half) * min(max(random, 0), 1))
    }

    /// When to try again, or nil to give up (the next attempt would be past `giveUpAfterMs`).
    public func nextAttemptMs(failedAttempts: Int, createdMs: Int64, nowMs: Int64, retryAfterMs: Int64?, random: Double) -> Int64?
    {
        let delay =
            retryAfterMs.map { max(initialDelayMs, min($0, maxRetryAfterMs)) }
            ?? backoffMs(failedAttempts: failedAttempts, random: random)
        let next = nowMs + delay
        return next - createdMs > giveUpAfterMs ? nil : next
    }
}

/// Parses `Retry-After`: delay seconds or an HTTP date (IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`).
public enum RetryAfter {
    /// The delay in ms from `nowMs` (0 for a date in the past); nil when the value cannot be parsed.
    public static func delayMs(_ value: String, nowMs: Int64) -> Int64? {
        let text = value.trimmingSpaces
        if let seconds = Int64(text), seconds >= 0, seconds < 1_000_000_000 { return seconds * 1000 }
        guard let date = httpDateMs(text) else { return nil }
        return max(0, date - nowMs)
    }

    static func httpDateMs(_ text: String) -> Int64? {
        let parts = text.split(separator: " ")
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard parts.count == 6, parts[5] == "GMT", let day = Int(parts[1]),
            let monthIndex = months.firstIndex(of: String(parts[2])),
            let year = Int(parts[3])
        else { return nil }
        let time = parts[4].split(separator: ":").compactMap { Int($0) }
        guard time.count == 3, (1...31).contains(day), time[0] < 24, time[1] < 60, time[2] < 61 else { return nil }
        let days = RFC3339.daysFromCivil(year: year, month: monthIndex + 1, day: day)
        return (Int64(days) * 86_400 + Int64(time[0] * 3600 + time[1] * 60 + time[2])) * 1000
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
