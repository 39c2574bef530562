import DedupVitalsCore
import DedupVitalsServer
import Foundation
import GRDB
import Testing

/// Bearer tokens (docs/reference/http-api.md): 401 without or with a bad token, 403 for others' events, every /v1 route
/// protected, /metrics behind its own token, /healthz and /readyz open, idempotency keys scoped per token.
@Suite struct AuthTests {
    static let paymentsSecret = "pay-7f3c1e9a2b"
    static let opsSecret = "ops-55d0aa81c4"
    static let metricsSecret = "metrics-0b9e77"
    static let environment = ["PAY_TOKEN": paymentsSecret, "OPS_TOKEN": opsSecret, "METRICS_TOKEN": metricsSecret]

    static func start(_ dir: TemporaryDirectory, metricsToken: Bool = false) async throws -> TestService {
        try await TestService.start(database: dir.file("db.sqlite"), environment: environment) { config in
            config.tokens = [
                .init(name: "payments-prod", tokenEnv: "PAY_TOKEN", services: ["payments"]),
                .init(name: "ops", tokenEnv: "OPS_TOKEN", services: nil),
            ]
            if metricsToken { config.metricsTokenEnv = "METRICS_TOKEN" }
        }
    }

    static func bearer(_ secret: String) -> [(String, String)] { [("Authorization", "Bearer \(secret)")] }
    static func event(_ service: String) -> String { #"{"service":"\#(service)","operation":"refund","outcome":"miss"}"# }

    /// Attempts stored for the series, from the live state (applied only after a commit).
    static func attempts(_ service: TestService, _ name: String) -> Int64 {
        service.service.state.withWindows { $0.state(of: SeriesKey(service: name, operation: "refund"))?.totals.attempts ?? 0 }
    }

    struct BadCredential: Sendable, CustomTestStringConvertible {
        var name: String
        var headers: [(String, String)]
        var code: String
        var testDescription: String { name }
    }

    static let badCredentials: [BadCredential] = [
        .init(name: "no Authorization header", headers: [], code: "unauthenticated"),
        .init(name: "wrong token", headers: bearer("not-the-token"), code: "invalid_token"),
        .init(name: "prefix of a real token", headers: bearer(String(paymentsSecret.dropLast())), code: "invalid_token"),
        .init(name: "real token plus a byte", headers: bearer(paymentsSecret + "x"), code: "invalid_token"),
        .init(name: "real token in another case", headers: bearer(paymentsSecret.uppercased()), code: "invalid_token"),
        .init(name: "Basic scheme", headers: [("Authorization", "Basic \(paymentsSecret)")], code: "unauthenticated"),
        .init(name: "Bearer without a token", headers: [("Authorization", "Bearer")], code: "unauthenticated"),
        .init(name: "token without a scheme", headers: [("Authorization", paymentsSecret)], code: "unauthenticated"),
        .init(name: "the metrics token", headers: bearer(metricsSecret), code: "invalid_token"),
    ]

    @Test(arguments: badCredentials)
    func everyV1RouteRefusesABadCredentialWith401(_ bad: BadCredential) async throws {
        let dir = try TemporaryDirectory()
        try await Self.start(dir, metricsToken: true).scoped { service in
            let requests: [(HTTP.Reply, String)] = [
                (
                    try await HTTP.post(service.baseURL + "/v1/events", Self.event("payments"), headers: bad.headers),
                    "POST /v1/events"
                ),
                (try await HTTP.get(service.baseURL + "/v1/summary", headers: bad.headers), "GET /v1/summary"),
                (try await HTTP.get(service.baseURL + "/v1/alerts", headers: bad.headers), "GET /v1/alerts"),
                (try await HTTP.get(service.baseURL + "/v1/no-such-route", headers: bad.headers), "GET /v1/no-such-route"),
            ]
            for (reply, route) in requests {
                #expect(reply.status == 401, "\(route)")
                #expect(reply.errorCode == bad.code, "\(route): \(reply.text)")
                #expect(reply.headers.first(name: "WWW-Authenticate")?.hasPrefix("Bearer") == true, "\(route)")
                #expect(!reply.text.contains(Self.paymentsSecret) && !reply.text.contains(Self.metricsSecret))
            }
            #expect(Self.attempts(service, "payments") == 0)
        }
    }

    @Test func validTokensReachTheRoutesAndHealthChecksStayOpen() async throws {
        let dir = try TemporaryDirectory()
        try await Self.start(dir).scoped { service in
            let posted = try await HTTP.post(
                service.baseURL + "/v1/events", Self.event("payments"), headers: Self.bearer(Self.paymentsSecret))
            #expect(posted.status == 202)
            let summary = try await HTTP.get(service.baseURL + "/v1/summary", headers: Self.bearer(Self.opsSecret))
            #expect(summary.status == 200)
            #expect((summary.json["series"] as? [Any])?.count == 1)
            #expect(try await HTTP.get(service.baseURL + "/healthz").status == 200)
            #expect(try await HTTP.get(service.baseURL + "/readyz").status == 200)
            let metrics = try await HTTP.get(service.baseURL + "/metrics")
            #expect(metrics.status == 200, "without metrics_token_env /metrics stays open")
            #expect(metrics.text.contains(#"dedup_ingest_requests_total{code="202"} 1"#))
            let unauthenticated = try await HTTP.post(service.baseURL + "/v1/events", Self.event("payments"))
            #expect(unauthenticated.status == 401)
            #expect(try await HTTP.get(service.baseURL + "/metrics").text.contains(#"dedup_ingest_requests_total{code="401"} 1"#))
        }
    }

    @Test func aTokenLimitedToServicesCannotReportAnotherServicesEvents() async throws {
        let dir = try TemporaryDirectory()
        try await Self.start(dir).scoped { service in
            let batch = "[" + [Self.event("payments"), Self.event("payments"), Self.event("orders")].joined(separator: ",") + "]"
            let refused = try await HTTP.post(service.baseURL + "/v1/events", batch, headers: Self.bearer(Self.paymentsSecret))
            #expect(refused.status == 403)
            #expect(refused.errorCode == "forbidden_service")
            #expect((refused.json["error"] as? [String: Any])?["index"] as? Int == 2)
            #expect(Self.attempts(service, "payments") == 0, "the whole batch is refused")
            #expect(Self.attempts(service, "orders") == 0)
            let ndjson = Self.event("orders") + "\n"
            let refusedNDJSON = try await HTTP.post(
                service.baseURL + "/v1/events", ndjson, contentType: "application/x-ndjson",
                headers: Self.bearer(Self.paymentsSecret))
            #expect(refusedNDJSON.status == 403)
            let unscoped = try await HTTP.post(service.baseURL + "/v1/events", batch, headers: Self.bearer(Self.opsSecret))
            #expect(unscoped.status == 202)
            #expect(Self.attempts(service, "payments") == 2 && Self.attempts(service, "orders") == 1)
        }
    }

    @Test func metricsTokenProtectsOnlyMetrics() async throws {
        let dir = try TemporaryDirectory()
        try await Self.start(dir, metricsToken: true).scoped { service in
            let open = try await HTTP.get(service.baseURL + "/metrics")
            #expect(open.status == 401)
            #expect(open.headers.first(name: "WWW-Authenticate")?.hasPrefix("Bearer") == true)
            #expect(try await HTTP.get(service.baseURL + "/metrics", headers: Self.bearer(Self.opsSecret)).status == 401)
            let scraped = try await HTTP.get(service.baseURL + "/metrics", headers: Self.bearer(Self.metricsSecret))
            #expect(scraped.status == 200)
            #expect(scraped.text.contains("dedup_build_info"))
            #expect(try await HTTP.get(service.baseURL + "/v1/summary", headers: Self.bearer(Self.metricsSecret)).status == 401)
            #expect(try await HTTP.get(service.baseURL + "/healthz").status == 200)
            #expect(try await HTTP.get(service.baseURL + "/readyz").status == 200)
        }
    }

    @Test func idempotencyKeysAreScopedPerToken() async throws {
        let dir = try TemporaryDirectory()
        try await Self.start(dir).scoped { service in
            let url = service.baseURL + "/v1/events"
            let key = [("Idempotency-Key", "batch-42")]
            let first = try await HTTP.post(url, Self.event("payments"), headers: Self.bearer(Self.paymentsSecret) + key)
            let otherToken = try await HTTP.post(url, Self.event("payments"), headers: Self.bearer(Self.opsSecret) + key)
            let retry = try await HTTP.post(url, Self.event("payments"), headers: Self.bearer(Self.paymentsSecret) + key)
            #expect(first.status == 202 && otherToken.status == 202 && retry.status == 202)
            #expect(first.headers.first(name: "Idempotent-Replayed") == nil)
            #expect(otherToken.headers.first(name: "Idempotent-Replayed") == nil, "another token's key is another key")
            #expect(retry.headers.first(name: "Idempotent-Replayed") == "true")
            #expect(Self.attempts(service, "payments") == 2)
        }
        let stored = try await DatabaseQueue(path: dir.file("db.sqlite")).read { db in
            try String.fetchAll(db, sql: "SELECT scope || ' ' || idempotency_key FROM ingest_requests")
        }
        #expect(stored.count == 2 && stored.allSatisfy { !$0.contains("batch-42") }, "keys are stored only as keyed hashes")
        let file = try Data(contentsOf: URL(fileURLWithPath: dir.file("db.sqlite")))
        #expect(file.range(of: Data("batch-42".utf8)) == nil)
    }

    struct MissingSecret: Sendable, CustomTestStringConvertible {
        var name: String
        var environment: [String: String]
        var variable: String
        var testDescription: String { name }
    }

    @Test(arguments: [
        MissingSecret(name: "token variable unset", environment: ["METRICS_TOKEN": "m-secret-1"], variable: "OPS_TOKEN"),
        MissingSecret(
            name: "token variable empty", environment: ["OPS_TOKEN": "", "METRICS_TOKEN": "m-secret-1"], variable: "OPS_TOKEN"),
        MissingSecret(name: "metrics variable unset", environment: ["OPS_TOKEN": "o-secret-2"], variable: "METRICS_TOKEN"),
        MissingSecret(
            name: "two tokens share a secret",
            environment: ["OPS_TOKEN": "shared-s3cr3t", "PAY_TOKEN": "shared-s3cr3t", "METRICS_TOKEN": "m-secret-1"],
            variable: "same secret"),
    ])
    func unusableSecretsAreConfigErrorsThatNameTheVariableNotTheValue(_ missing: MissingSecret) throws {
        var config = ServiceConfig()
        config.tokens = [.init(name: "ops", tokenEnv: "OPS_TOKEN", services: nil)]
        if missing.environment["PAY_TOKEN"] != nil {
            config.tokens.append(.init(name: "pay", tokenEnv: "PAY_TOKEN", services: nil))
        }
        config.metricsTokenEnv = "METRICS_TOKEN"
        let error = #expect(throws: ConfigError.self) {
            try Credentials.resolve(config, environment: missing.environment, file: "c.yml")
        }
        let text = error?.description ?? ""
        #expect(text.contains(missing.variable), "\(text)")
        for secret in missing.environment.values where !secret.isEmpty { #expect(!text.contains(secret)) }
    }

    @Test func comparisonFindsExactlyTheMatchingToken() throws {
        var config = ServiceConfig()
        config.tokens = [
            .init(name: "a", tokenEnv: "A", services: ["payments"]),
            .init(name: "b", tokenEnv: "B", services: nil, rateLimit: .init(eventsPerSecond: 5, burst: 10)),
        ]
        let credentials = try Credentials.resolve(config, environment: ["A": "alpha", "B": "beta"], file: "c.yml")
        #expect(credentials.caller(presenting: "alpha")?.name == "a")
        #expect(credentials.caller(presenting: "beta")?.rateLimit == .init(eventsPerSecond: 5, burst: 10))
        #expect(credentials.caller(presenting: "alph") == nil)
        #expect(credentials.caller(presenting: "") == nil)
        #expect(credentials.caller(presenting: "alpha")?.mayReport("orders") == false)
        #expect(credentials.caller(presenting: "beta")?.mayReport("orders") == true)
    }
}
