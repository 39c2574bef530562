import DedupVitalsCore
import DedupVitalsServer
import Foundation
import Hummingbird
import NIOHTTP1
import Testing

/// Requests no route takes: a known path with another method gets 405 with `Allow` (RFC 9110 §15.5.6), an unknown
/// path 404; both with the JSON error body. HEAD is served wherever GET is. The token check sees paths as the router
/// does (empty segments skipped).
@Suite struct RoutingTests {
    static let environment = ["OPS_TOKEN": "ops-routing-1d2c", "METRICS_TOKEN": "metrics-routing-9a"]

    static func start(_ dir: TemporaryDirectory, tokens: Bool = false) async throws -> TestService {
        try await TestService.start(database: dir.file("db.sqlite"), environment: environment) { config in
            if tokens {
                config.tokens = [.init(name: "ops", tokenEnv: "OPS_TOKEN", services: nil)]
                config.metricsTokenEnv = "METRICS_TOKEN"
            }
        }
    }

    struct WrongMethod: Sendable, CustomTestStringConvertible {
        var method: String
        var path: String
        var allow: String
        var testDescription: String { "\(method) \(path)" }
    }

    static let wrongMethods: [WrongMethod] = [
        .init(method: "DELETE", path: "/v1/events", allow: "POST"),
        .init(method: "GET", path: "/v1/events", allow: "POST"),
        .init(method: "PUT", path: "/v1/events", allow: "POST"),
        .init(method: "HEAD", path: "/v1/events", allow: "POST"),
        .init(method: "OPTIONS", path: "/v1/events", allow: "POST"),
        .init(method: "PATCH", path: "/v1/events/", allow: "POST"),
        .init(method: "POST", path: "/v1/summary", allow: "GET, HEAD"),
        .init(method: "DELETE", path: "/v1/alerts", allow: "GET, HEAD"),
        .init(method: "POST", path: "/v1/series", allow: "GET, HEAD"),
        .init(method: "PUT", path: "/v1/keys/lookup", allow: "GET, HEAD"),
        .init(method: "POST", path: "/metrics", allow: "GET, HEAD"),
        .init(method: "POST", path: "/healthz", allow: "GET, HEAD"),
        .init(method: "TRACE", path: "/readyz", allow: "GET, HEAD"),
        .init(method: "PUT", path: "/openapi.json", allow: "GET, HEAD"),
    ]

    @Test(arguments: wrongMethods)
    func aKnownPathAnswersAnotherMethodWith405AndAllow(_ wrong: WrongMethod) async throws {
        let dir = try TemporaryDirectory()
        let service = try await Self.start(dir)
        let reply = try await HTTP.request(.init(rawValue: wrong.method), service.baseURL + wrong.path)
        #expect(reply.status == 405)
        #expect(reply.headers.first(name: "Allow") == wrong.allow)
        if wrong.method != "HEAD" {
            let error = try #require(reply.json["error"] as? [String: Any])
            #expect(error["code"] as? String == "method_not_allowed")
            #expect((error["message"] as? String)?.contains(wrong.allow) == true)
        }
        try await service.stop()
    }

    /// Every route of the router, asked with a method it does not serve, lists exactly the methods of its path.
    @Test func everyRouteOfTheRouterAnswers405WithItsMethods() async throws {
        let dir = try TemporaryDirectory()
        let service = try await Self.start(dir)
        var served: [String: Set<String>] = [:]
        for route in service.service.makeRouter().routes {
            served[route.path.description, default: []].insert(route.method.rawValue)
            if route.method == .get { served[route.path.description]!.insert("HEAD") }
        }
        #expect(served.count >= 9)
        for (path, methods) in served {
            let unserved = try #require(["DELETE", "PATCH", "PUT", "POST", "GET"].first { !methods.contains($0) })
            let reply = try await HTTP.request(.init(rawValue: unserved), service.baseURL + path)
            #expect(reply.status == 405, "\(unserved) \(path)")
            let allow = Set(
                (reply.headers.first(name: "Allow") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            #expect(allow == methods, "\(unserved) \(path): Allow \(allow.sorted()) but the router serves \(methods.sorted())")
            #expect(reply.errorCode == "method_not_allowed", "\(unserved) \(path)")
        }
        try await service.stop()
    }

    @Test(arguments: ["/nope", "/v1", "/v1/events/extra", "/metricsx", "/openapi.yaml"])
    func anUnknownPathAnswers404WithTheJSONErrorBody(_ path: String) async throws {
        let dir = try TemporaryDirectory()
        let service = try await Self.start(dir)
        for method in ["GET", "POST", "DELETE"] {
            let reply = try await HTTP.request(.init(rawValue: method), service.baseURL + path)
            #expect(reply.status == 404, "\(method) \(path)")
            #expect(reply.errorCode == "not_found", "\(method) \(path): \(reply.text)")
            #expect(reply.headers.first(name: "Allow") == nil)
        }
        try await service.stop()
    }

    @Test func headIsServedWhereverGetIs() async throws {
        let dir = try TemporaryDirectory()
        let service = try await Self.start(dir)
        for path in ["/healthz", "/readyz", "/metrics", "/v1/summary", "/openapi.json"] {
            let reply = try await HTTP.request(.HEAD, service.baseURL + path)
            #expect(reply.status == 200, "HEAD \(path)")
            #expect(reply.body.isEmpty, "HEAD \(path)")
        }
        try await service.stop()
    }

    /// With tokens, authentication comes first: a wrong method under /v1 without a token is a 401; with one, a 405.
    @Test func withTokensAWrongMethodNeedsATokenToLearnItIs405() async throws {
        let dir = try TemporaryDirectory()
        let service = try await Self.start(dir, tokens: true)
        let anonymous = try await HTTP.request(.DELETE, service.baseURL + "/v1/events")
        #expect(anonymous.status == 401)
        #expect(anonymous.errorCode == "unauthenticated")
        let authorized = try await HTTP.request(
            .DELETE, service.baseURL + "/v1/events", headers: [("Authorization", "Bearer ops-routing-1d2c")])
        #expect(authorized.status == 405)
        #expect(authorized.headers.first(name: "Allow") == "POST")
        let unknown = try await HTTP.request(
            .GET, service.baseURL + "/v1/nope", headers: [("Authorization", "Bearer ops-routing-1d2c")])
        #expect(unknown.status == 404)
        #expect(unknown.errorCode == "not_found")
        try await service.stop()
    }

    /// `//v1/summary` and `/v1/summary/` reach the same route as `/v1/summary`, so they need the same token; the
    /// same for `/metrics` and its token.
    @Test(arguments: ["//v1/summary", "/v1//summary", "/v1/summary/", "//v1/events", "//metrics", "/metrics/", "///metrics//"])
    func aPathSpelledWithEmptySegmentsStillNeedsItsToken(_ path: String) async throws {
        let dir = try TemporaryDirectory()
        let service = try await Self.start(dir, tokens: true)
        let method = path.contains("events") ? "POST" : "GET"
        let body = #"{"service":"payments","operation":"refund","outcome":"miss"}"#
        let connection = try RawConnection(service.baseURL)
        try connection.send(
            "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        )
        let reply = try #require(await connection.readResponse(timeout: .seconds(10)))
        #expect(reply.status == 401, "\(method) \(path): \(reply.head)")
        #expect(service.service.state.withWindows { $0.seriesCount == 0 })
        try await service.stop()
    }
}
