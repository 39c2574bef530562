import DedupVitalsCore
import HTTPTypes
import Hummingbird
import NIOCore
import Testing

@testable import DedupVitalsServer

/// Who may call the administrative routes (`/-/…`): the decision of ``AuthMiddleware``, for addresses a loopback
/// test cannot connect from.
@Suite struct AdminAuthTests {
    static func request(_ path: String, token: String? = nil) -> Request {
        var head = HTTPRequest(method: .post, scheme: "http", authority: "dedup-vitals", path: path)
        if let token { head.headerFields[.authorization] = "Bearer \(token)" }
        return Request(head: head, body: .init(buffer: ByteBuffer()))
    }

    static func middleware(tokens: [ServiceConfig.Token] = [], environment: [String: String] = [:]) throws -> AuthMiddleware {
        var config = ServiceConfig()
        config.tokens = tokens
        let credentials = try Credentials.resolve(config, environment: environment, file: "test")
        return AuthMiddleware(
            live: LiveConfiguration(.init(config: config, credentials: credentials, rules: [])), counters: IngestCounters())
    }

    @Test func withoutTokensOnlyLoopbackClientsMayReload() throws {
        let auth = try Self.middleware()
        for remote in ["127.0.0.1", "::1"] {
            #expect(throws: Never.self) {
                try auth.authenticate(Self.request("/-/reload"), credentials: auth.live.credentials, remote: remote)
            }
        }
        for remote in ["10.1.2.3", "192.168.0.9", "2001:db8::1", nil] as [String?] {
            do {
                _ = try auth.authenticate(Self.request("/-/reload"), credentials: auth.live.credentials, remote: remote)
                Issue.record("\(remote ?? "unknown") was let through")
            } catch {
                #expect(error.error.status == .forbidden)
            }
        }
        // The API itself stays open without tokens, from anywhere.
        #expect(try auth.authenticate(Self.request("/v1/summary"), credentials: auth.live.credentials, remote: "10.1.2.3") == nil)
    }

    @Test func withTokensOnlyAnAdminTokenMayReloadFromAnywhere() throws {
        let auth = try Self.middleware(
            tokens: [
                .init(name: "reporter", tokenEnv: "R", services: nil),
                .init(name: "operator", tokenEnv: "O", services: nil, admin: true),
            ],
            environment: ["R": "r-secret", "O": "o-secret"])
        let credentials = auth.live.credentials
        let caller = try auth.authenticate(
            Self.request("/-/reload", token: "o-secret"), credentials: credentials, remote: "10.1.2.3")
        #expect(caller?.name == "operator")
        #expect(throws: AuthenticationFailure.self) {
            try auth.authenticate(Self.request("/-/reload", token: "r-secret"), credentials: credentials, remote: "127.0.0.1")
        }
        #expect(throws: AuthenticationFailure.self) {
            try auth.authenticate(Self.request("/-/reload"), credentials: credentials, remote: "127.0.0.1")
        }
    }
}
