import DedupVitalsCore
import Synchronization

/// `dedup_http_request_duration_seconds`: one histogram per matched route template and status class. The label
/// values are bounded (the routes of the router, five classes), never the raw path.
final class HTTPRequestMetrics: Sendable {
    struct Key: Hashable, Sendable, Comparable {
        /// The route template as registered (`/v1/keys/{service}/{operation}/{key}` style), not the raw path.
        var route: String
        /// `1xx` … `5xx`.
        var statusClass: String

        static func < (lhs: Key, rhs: Key) -> Bool { (lhs.route, lhs.statusClass) < (rhs.route, rhs.statusClass) }
    }

    private let histograms = Mutex<[Key: BucketHistogram]>([:])

    func observe(route: String, status: Int, seconds: Double) {
        let key = Key(route: route, statusClass: Self.statusClass(status))
        histograms.withLock { histograms in
            histograms[key, default: BucketHistogram(bounds: BucketHistogram.defaultSecondsBounds)].observe(seconds)
        }
    }

    var snapshot: [Key: BucketHistogram] { histograms.withLock { $0 } }

    /// `1xx` … `5xx`, from a table: a request's observation allocates no string.
    static func statusClass(_ status: Int) -> String { statusClasses[min(max(status / 100, 1), 5) - 1] }

    private static let statusClasses = ["1xx", "2xx", "3xx", "4xx", "5xx"]
}
