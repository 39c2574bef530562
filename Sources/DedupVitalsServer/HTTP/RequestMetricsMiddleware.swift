import DedupVitalsCore
import Hummingbird

/// Times every routed request, from the router handing it over until its body is written, into
/// ``HTTPRequestMetrics`` under the matched route template. Added first, so that it sees the answer the client gets
/// (after ``APIErrorMiddleware`` turned errors into responses). Requests for paths no route matches do not reach
/// router middleware and are not counted.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: HTTPRequestMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response
    {
        let start = ContinuousClock.now
        do {
            var response = try await next(request, context)
            let status = response.status.code
            let body = response.body
            // Recorded once the body is written (a streamed /metrics takes most of its time there).
            response.body = ResponseBody(contentLength: body.contentLength) { [metrics] writer in
                defer {
                    metrics.observe(
                        route: context.endpointPath ?? "unmatched", status: status,
                        seconds: (ContinuousClock.now - start).inSeconds)
                }
                try await body.write(writer)
            }
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.observe(
                route: context.endpointPath ?? "unmatched", status: status, seconds: (ContinuousClock.now - start).inSeconds)
            throw error
        }
    }
}
