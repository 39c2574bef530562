import DedupVitalsCore
import Synchronization

/// Per-token rate limits in events per second (token buckets on the monotonic clock).
///
/// A request of `n` events is admitted when the bucket holds `min(n, burst)`; it then takes all `n`, which may leave
/// the bucket in debt. So a batch larger than the burst is admitted from a full bucket, and the sustained rate still
/// holds because later requests wait until the debt is repaid.
final class TokenBucketLimiter: Sendable {
    private struct Bucket {
        var level: Double
        var updated: ContinuousClock.Instant
    }

    private let buckets = Mutex([String: Bucket]())

    /// Takes `count` events from `name`'s bucket. nil when admitted; otherwise the whole seconds to wait (≥ 1).
    func take(_ count: Int, for name: String, limit: ServiceConfig.RateLimit, now: ContinuousClock.Instant = .now) -> Int? {
        buckets.withLock { buckets in
            var bucket = buckets[name] ?? Bucket(level: Double(limit.burst), updated: now)
            let elapsed = Double((now - bucket.updated) / .milliseconds(1)) / 1000
            bucket.level = min(Double(limit.burst), bucket.level + max(0, elapsed) * limit.eventsPerSecond)
            bucket.updated = now
            let needed = Double(min(count, limit.burst))
            defer { buckets[name] = bucket }
            guard bucket.level >= needed else {
                return max(1, Int(((needed - bucket.level) / limit.eventsPerSecond).rounded(.up)))
            }
            bucket.level -= Double(count)
            return nil
        }
    }
}
