import DedupVitalsCore
import DedupVitalsServer
import Testing

/// Configuration of the security features: receiver URL validation, tokens with rate limits, the metrics token,
/// the ingest bounds. Every problem is reported with its line.
@Suite struct SecurityConfigTests {
    static func problems(_ text: String) -> [String] {
        ConfigLoader.parse(text, file: "c.yml").1.map(\.description)
    }

    struct BadURL: Sendable, CustomTestStringConvertible {
        var url: String
        var message: String
        var testDescription: String { url }
    }

    @Test(arguments: [
        BadURL(url: "ftp://127.0.0.1/hook", message: "http or https"),
        BadURL(url: "file:///etc/passwd", message: "http or https"),
        BadURL(url: "javascript:alert(1)", message: "http or https"),
        BadURL(url: "http://", message: "no host"),
        BadURL(url: "/relative/hook", message: "not a valid URL"),
        BadURL(url: "127.0.0.1:9000/hook", message: "not a valid URL"),
        BadURL(url: "http://user:pass@127.0.0.1:9000/hook", message: "credentials"),
        BadURL(url: "http://token@127.0.0.1:9000/hook", message: "credentials"),
        BadURL(url: "http://exa mple.com/", message: "not a valid URL"),
        BadURL(url: "", message: "must be a non-empty string"),
    ])
    func receiverURLsAreValidated(_ bad: BadURL) {
        let problems = Self.problems("receivers:\n  - name: oncall\n    url: \"\(bad.url)\"\n")
        #expect(problems.count == 1, "\(problems)")
        #expect(problems.first?.hasPrefix("c.yml:3: receivers[]") == true, "\(problems)")
        #expect(problems.first?.contains(bad.message) == true, "\(problems)")
    }

    @Test(arguments: ["http://127.0.0.1:9000/hook", "https://alerts.example.com/v1/hook?team=pay", "HTTPS://[::1]:8443/x"])
    func goodReceiverURLsPass(_ url: String) {
        #expect(Self.problems("receivers:\n  - {name: oncall, url: \"\(url)\"}\n").isEmpty)
    }

    @Test func tokensWithRateLimitsAndTheMetricsTokenAreRead() {
        let text = """
            metrics_token_env: METRICS_TOKEN
            limits: {max_series: 50, body_read_timeout: 5s, max_in_flight_requests: 8, max_in_flight_bytes: 10485760}
            auth:
              tokens:
                - {name: pay, token_env: PAY_TOKEN, services: [payments], rate_limit: {events_per_second: 2.5, burst: 40}}
                - {name: ops, token_env: OPS_TOKEN, rate_limit: {events_per_second: 100}}
            """
        let (config, problems) = ConfigLoader.parse(text, file: "c.yml")
        #expect(problems.isEmpty, "\(problems)")
        #expect(config.metricsTokenEnv == "METRICS_TOKEN")
        #expect(config.limits.maxSeries == 50 && config.limits.bodyReadTimeout == .seconds(5))
        #expect(config.limits.maxInFlightRequests == 8 && config.limits.maxInFlightBytes == 10_485_760)
        #expect(config.tokens[0].rateLimit == .init(eventsPerSecond: 2.5, burst: 40))
        #expect(config.tokens[1].rateLimit == .init(eventsPerSecond: 100, burst: 100), "burst defaults to one second")
    }

    @Test(arguments: [
        ("metrics_token_env: 1BAD\n", "c.yml:1: metrics_token_env"),
        ("auth:\n  tokens:\n    - {name: a, token_env: A, rate_limit: {burst: 3}}\n", "events_per_second is required"),
        ("auth:\n  tokens:\n    - {name: a, token_env: A, rate_limit: {events_per_second: 0}}\n", "must be a positive number"),
        ("auth:\n  tokens:\n    - {name: a, token_env: A, rate_limit: {events_per_second: -3}}\n", "must be a positive number"),
        (
            "auth:\n  tokens:\n    - {name: a, token_env: A, rate_limit: {events_per_second: 5, burst: 0}}\n",
            "burst must be between"
        ),
        ("auth:\n  tokens:\n    - {name: a, token_env: A, rate_limit: {events_per_second: 5, per: 1s}}\n", "per"),
        ("limits: {max_body_bytes: 2048, max_in_flight_bytes: 1024}\n", "must be at least max_body_bytes"),
        ("limits: {max_in_flight_requests: 0}\n", "max_in_flight_requests must be between"),
        ("limits: {body_read_timeout: soon}\n", "body_read_timeout"),
        ("auth:\n  tokens:\n    - {name: a, token_env: A, services: [\"pay ments\"]}\n", "not a valid service name"),
    ])
    func badSecuritySettingsAreReportedWithTheirLine(_ text: String, _ message: String) {
        let problems = Self.problems(text)
        #expect(problems.count == 1, "\(problems)")
        #expect(problems.first?.contains(message) == true, "\(problems)")
        #expect(problems.first?.hasPrefix("c.yml:") == true)
    }
}
