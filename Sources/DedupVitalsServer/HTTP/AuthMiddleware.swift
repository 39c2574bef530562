import DedupVitalsCore
import HTTPTypes
import Hummingbird

/// Bearer-token authentication (docs/reference/http-api.md): with tokens, every `/v1/*` request needs one; `/metrics`
/// needs the metrics token when one is configured; `/healthz` and `/readyz` stay open. Administrative routes
/// (`/-/…`, such as `POST /-/reload`) need a token with `admin: true` when tokens exist, and come only from a loopback
/// address when none do. The authenticated caller is stored in the request context for the routes (service scoping,
/// rate limits, idempotency scope). The credentials are read per request: a reload changes them at once.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = DedupRequestContext
    let live: LiveConfiguration
    /// Refused ingest requests are counted like every other ingest answer.
    let counters: IngestCounters

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response
    {
        var context = context
        do {
            context.caller = try authenticate(request, credentials: live.credentials, remote: context.remoteAddress)
        } catch {
            let segments = Self.segments(request)
            if segments.elementsEqual(["v1", "events"]) {
                counters.record(code: 401)
            } else if segments.elementsEqual(OTLPLogsController.path.split(separator: "/")) {
                // OTLP clients expect a google.rpc.Status body.
                counters.record(code: 401)
                var response = OTLPLogsController.errorResponse(
                    error.error, encoding: OTLPLogsController.encoding(of: request) ?? .json)
                response.headers[.wwwAuthenticate] = error.challenge
                return response
            }
            return error.response
        }
        return try await next(request, context)
    }

    /// The caller of a `/v1` request (nil without API tokens or for other paths); throws a 401.
    func authenticate(
        _ request: Request, credentials: Credentials, remote: String?
    ) throws(AuthenticationFailure) -> Credentials.Caller? {
        // Segments as the router matches them, so that no spelling of a path (`//v1/x`, `/-//reload`) skips a check.
        let segments = Self.segments(request)
        if segments.first == "-" {
            guard credentials.protectsAPI else {
                guard let remote, ServiceConfig.ListenAddress(host: remote, port: 0).isLoopback else {
                    throw AuthenticationFailure(
                        error: APIError(
                            .forbidden, code: "forbidden",
                            message: "administrative routes are only open to loopback clients while no auth token is configured"))
                }
                return nil
            }
            guard let caller = credentials.caller(presenting: try Self.bearerToken(request)) else { throw Self.invalidToken() }
            guard caller.admin else {
                throw AuthenticationFailure(
                    error: APIError(
                        .forbidden, code: "forbidden",
                        message: "token \(caller.name) may not use administrative routes (admin: true)"))
            }
            return caller
        }
        if segments.first == "v1" {
            guard credentials.protectsAPI else { return nil }
            guard let caller = credentials.caller(presenting: try Self.bearerToken(request)) else { throw Self.invalidToken() }
            return caller
        }
        if segments.elementsEqual(["metrics"]), credentials.protectsMetrics {
            guard credentials.isMetricsToken(try Self.bearerToken(request)) else { throw Self.invalidToken() }
        }
        return nil
    }

    /// The path's segments as the router matches them: empty ones (`//v1/summary`, `/metrics/`) are skipped, so a
    /// path the router serves is never spelled past the check.
    static func segments(_ request: Request) -> [Substring] {
        request.uri.path.split(separator: "/", omittingEmptySubsequences: true)
    }

    /// The token of an `Authorization: Bearer TOKEN` header; 401 when there is none.
    static func bearerToken(_ request: Request) throws(AuthenticationFailure) -> Substring {
        guard let header = request.headers.value(.authorization) else {
            throw AuthenticationFailure(
                error: APIError(
                    .unauthorized, code: "unauthenticated", message: "this route needs Authorization: Bearer TOKEN"),
                challenge: #"Bearer realm="dedup-vitals""#)
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw AuthenticationFailure(
                error: APIError(
                    .unauthorized, code: "unauthenticated", message: "the Authorization header must be Bearer TOKEN"),
                challenge: #"Bearer realm="dedup-vitals", error="invalid_request""#)
        }
        return parts[1].drop { $0 == " " }
    }

    static func invalidToken() -> AuthenticationFailure {
        AuthenticationFailure(
            error: APIError(.unauthorized, code: "invalid_token", message: "the bearer token is not valid"),
            challenge: #"Bearer realm="dedup-vitals", error="invalid_token""#)
    }
}

/// A 401 with its `WWW-Authenticate` challenge (RFC 6750).
struct AuthenticationFailure: Error {
    var error: APIError
    /// nil for a 403 (the caller is known, or no token would help).
    var challenge: String? = nil

    var response: Response {
        var response = error.response
        if let challenge { response.headers[.wwwAuthenticate] = challenge }
        return response
    }
}
