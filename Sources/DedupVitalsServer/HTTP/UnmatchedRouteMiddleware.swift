import HTTPTypes
import Hummingbird

/// Answers the requests that no route takes: a path that some route serves, asked with another method, gets
/// `405 Method Not Allowed` with the `Allow` header RFC 9110 §15.5.6 requires; any other path gets `404`. Both carry
/// the JSON error body.
///
/// Add it to the router after every route (``install(on:)``): Hummingbird applies router middleware only to the
/// routes added after it, and to its not-found responder, so this runs for unmatched requests only. It still acts
/// only when the request's method is not one the path serves, so a route that throws a 404 of its own keeps it.
struct UnmatchedRouteMiddleware<Context: RequestContext>: RouterMiddleware {
    /// One path and the methods served on it.
    struct Resource: Sendable {
        var path: RouterPath
        var methods: [HTTPRequest.Method]
        /// The `Allow` header value: the methods in a fixed order, then any others.
        var allow: String { methods.map(\.rawValue).joined(separator: ", ") }
    }

    let resources: [Resource]

    /// Groups `routes` by path. With `headForGet` (the router's `.autoGenerateHeadEndpoints`), HEAD is allowed
    /// wherever GET is.
    init(routes: [Router<Context>.RouteDescription], headForGet: Bool) {
        var methods: [String: (RouterPath, Set<HTTPRequest.Method>)] = [:]
        for route in routes {
            methods[route.path.description, default: (route.path, [])].1.insert(route.method)
            if headForGet, route.method == .get { methods[route.path.description]!.1.insert(.head) }
        }
        let order: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options, .trace]
        resources = methods.values.map { path, set in
            Resource(
                path: path, methods: order.filter(set.contains) + set.subtracting(order).sorted { $0.rawValue < $1.rawValue })
        }.sorted { $0.path.description < $1.path.description }
    }

    /// Adds the middleware to `router`, after every route: call it last.
    static func install(on router: Router<Context>, headForGet: Bool) {
        router.add(middleware: Self(routes: router.routes, headForGet: headForGet))
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response
    {
        guard let resource = resource(for: request.uri.path) else {
            do {
                return try await next(request, context)
            } catch let error as HTTPError where error.status == .notFound {
                throw APIError.notFound()
            }
        }
        guard !resource.methods.contains(request.method) else { return try await next(request, context) }
        var response = APIError(
            .methodNotAllowed, code: "method_not_allowed",
            message: "\(request.method.rawValue) is not allowed on \(resource.path); allowed: \(resource.allow)"
        ).response
        response.headers[.allow] = resource.allow
        return response
    }

    /// The resource whose path matches `path` the way the router's trie matches it: empty segments are skipped,
    /// each element matches one segment (`**` the rest).
    func resource(for path: String) -> Resource? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        return resources.first { Self.matches($0.path, segments) }
    }

    static func matches(_ path: RouterPath, _ segments: [Substring]) -> Bool {
        var index = 0
        for element in path.components {
            if element.description == "**" { return true }
            guard index < segments.count, element ~= segments[index] else { return false }
            index += 1
        }
        return index == segments.count
    }
}
