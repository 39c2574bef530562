import Foundation

/// When to try a batch again: exponential backoff with jitter, or what the service asks with `Retry-After`.
struct RetryPolicy: Sendable {
    var initialBackoff: Duration
    var maxBackoff: Duration
    var maxRetryAfter: Duration

    /// The delay before retry number `retry` (1 for the first): `min(max, initial × 2^(retry-1))`, half of it fixed
    /// and half random, so that many reporters cut off by the same outage do not come back in step. A
    /// `Retry-After` from the service replaces it (cut to ``maxRetryAfter``).
    func delay(retry: Int, retryAfter: Duration?, random: Double = Double.random(in: 0..<1)) -> Duration {
        if let retryAfter { return min(retryAfter, maxRetryAfter) }
        let exponent = min(max(retry - 1, 0), 30)
        let full = min(maxBackoff, initialBackoff * (1 << exponent))
        return full / 2 + full / 2 * random
    }

    /// `Retry-After` as delay-seconds or an HTTP date (RFC 9110 §10.2.3); nil when absent or malformed.
    static func parseRetryAfter(_ value: String?, now: Date = Date()) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Int(value) { return seconds >= 0 ? .seconds(seconds) : nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        let seconds = max(0, date.timeIntervalSince(now))
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }
}
