import DedupVitalsCore
import Foundation
import Hummingbird

/// `GET /v1/series?service=&operation=&window=&step=`: per-step counts and duplicate ratios of one series over the
/// last `window`, for sparklines. `window` defaults to 1h and `step` to 1m (or the window itself when shorter); both
/// are Prometheus durations in whole multiples of the 10 s bucket, and `window` must be a multiple of `step`.
struct SeriesController: Sendable {
    /// The most points one answer may carry.
    static let maxPoints = 1000

    let config: ServiceConfig
    let state: LiveState
    let clock: @Sendable () -> Int64

    func addRoutes(to router: Router<DedupRequestContext>) {
        router.get("/v1/series") { request, _ in
            try series(query: request.uri.queryParameters)
        }
    }

    func series(query: Parameters) throws -> Response {
        let key = SeriesKey(service: try name("service", in: query), operation: try name("operation", in: query))
        let window = try duration("window", in: query, default: .hours(1))
        let step = try duration("step", in: query, default: min(.minutes(1), window))
        guard window.milliseconds <= state.bucketHorizonMs else {
            throw invalid(
                "window",
                "window must not exceed \(PromDuration(milliseconds: state.bucketHorizonMs)), the longest window kept in memory")
        }
        guard window.milliseconds % step.milliseconds == 0 else {
            throw invalid("step", "window (\(window)) must be a whole multiple of step (\(step))")
        }
        let pointCount = Int(window.milliseconds / step.milliseconds)
        guard pointCount <= Self.maxPoints else {
            throw invalid("step", "window / step gives \(pointCount) points; at most \(Self.maxPoints) are allowed")
        }
        let nowMs = clock()
        let buckets: [SeriesBuckets.Bucket]? = state.withWindows { windows in
            guard windows.contains(key) else { return nil }
            let fromMs = windows.lowerBound(windowMs: window.milliseconds, nowMs: nowMs)
            return windows.bucketSeries(of: key, fromMs: fromMs, toMs: nowMs)
        }
        guard let buckets else {
            throw APIError(
                .notFound, code: "unknown_series",
                message: "no series \(key) (service=\(key.service), operation=\(key.operation))")
        }
        let document = SeriesDocument(key: key, window: window, step: step, buckets: buckets, nowMs: nowMs)
        return try ReadController.encode(document)
    }

    private func name(_ field: String, in query: Parameters) throws -> String {
        guard let value = query.get(field), !value.isEmpty else {
            throw invalid(field, "query parameter \(field) is required")
        }
        guard EventRules.isValidName(value) else {
            throw invalid(field, "\(field) \"\(value)\" is not a valid name ([A-Za-z_][A-Za-z0-9_.-]{0,63})")
        }
        return value
    }

    private func duration(_ field: String, in query: Parameters, default fallback: PromDuration) throws -> PromDuration {
        guard let text = query.get(field) else { return fallback }
        guard let value = PromDuration(text), value.milliseconds > 0 else {
            throw invalid(field, "\(field) \"\(text)\" is not a positive duration such as 10s, 5m or 1h")
        }
        guard value.milliseconds % BucketClock.defaultWidthMs == 0 else {
            throw invalid(field, "\(field) must be a whole multiple of 10s, not \(text)")
        }
        return value
    }

    private func invalid(_ field: String, _ message: String) -> APIError {
        APIError(.badRequest, code: "invalid_parameter", message: message, field: field)
    }
}
