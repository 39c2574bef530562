import DedupVitalsCore
import Hummingbird

/// Times every routed request, from the router handing it over until its response is ready (a streamed body: until it
/// is written), into ``HTTPRequestMetrics`` under the matched route template. Added first, so that it sees the answer
/// the client gets (after ``APIErrorMiddleware`` turned errors into responses). Requests for paths no route matches do not reach
/// router middleware and are not counted.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: HTTPRequestMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response
    {
        let start = ContinuousClock.now
        do {
            var response = try await next(request, context)
            let status = response.status.code
            let route = context.endpointPath ?? "unmatched"
            let body = response.body
            guard body.contentLength == nil else {
                // A body of known length is in memory already: writing it is one buffer handed to the channel.
                metrics.observe(route: route, status: status, seconds: (ContinuousClock.now - start).inSeconds)
                return response
            }
            // A streamed body (/metrics) is timed until it is written: it takes most of the request's time there.
            response.body = ResponseBody { [metrics] writer in
                defer { metrics.observe(route: route, status: status, seconds: (ContinuousClock.now - start).inSeconds) }
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
