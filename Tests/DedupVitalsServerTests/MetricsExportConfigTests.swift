import DedupVitalsCore
import DedupVitalsTestSupport
import Foundation
import NIOCore
import Testing

@testable import DedupVitalsServer

/// The `metrics:` section: what `/metrics` exports per series. Its validation (every problem with its line, also
/// through `check-config`), what a lean configuration leaves out of each format, and that a reload changes it.
@Suite struct MetricsExportConfigTests {
    static func parse(_ text: String) -> (MetricsExportConfig, [String]) {
        let (config, problems) = ConfigLoader.parse(text, file: "c.yml")
        return (config.metrics, problems.map(\.description))
    }

    @Test func withoutTheSectionEverythingIsExported() {
        let (export, problems) = Self.parse("windows: [1m, 1h]\n")
        #expect(problems == [])
        #expect(export == MetricsExportConfig())
        let plan = SeriesExportPlan(config: export, windows: [.minutes(1), .hours(1)], series: [])
        #expect(plan.profile(of: 0) == .init(windows: [0, 1], retryDelay: true))
        #expect(plan.retryDelayProtobuf == .native)
    }

    @Test func aFullSectionIsRead() {
        let (export, problems) = Self.parse(
            """
            windows: [1m, 5m, 15m, 1h]
            metrics:
              windows: [1h, 5m]
              retry_delay: false
              retry_delay_protobuf: both
              series:
                - match: {service: payments, operation: "refund*"}
                  windows: [1m, 5m, 15m, 1h]
                  retry_delay: true
                - match: {service: "batch-?"}
                  windows: []
            """)
        #expect(problems == [])
        #expect(export.windows == [.hours(1), .minutes(5)])
        #expect(export.retryDelay == false)
        #expect(export.retryDelayProtobuf == .both)
        #expect(export.series.count == 2)
        let windows: [PromDuration] = [.minutes(1), .minutes(5), .minutes(15), .hours(1)]
        let series = [
            SeriesKey(service: "payments", operation: "refund"), SeriesKey(service: "payments", operation: "charge"),
            SeriesKey(service: "batch-7", operation: "x"), SeriesKey(service: "batch-17", operation: "x"),
            SeriesKey(service: "payments", operation: "refund_partial"),
        ]
        let plan = SeriesExportPlan(config: export, windows: windows, series: series)
        #expect(plan.profile(of: 0) == .init(windows: [0, 1, 2, 3], retryDelay: true))
        // The section's windows, in the configured order (5m before 1h).
        #expect(plan.profile(of: 1) == .init(windows: [1, 3], retryDelay: false))
        #expect(plan.profile(of: 2) == .init(windows: [], retryDelay: false))
        #expect(plan.profile(of: 3) == .init(windows: [1, 3], retryDelay: false), "? matches one character")
        #expect(plan.profile(of: 4) == .init(windows: [0, 1, 2, 3], retryDelay: true))
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        var yaml: String
        var message: String
        var testDescription: String { message }
    }

    @Test(arguments: [
        Bad(yaml: "metrics:\n  windows: [2m]\n", message: "c.yml:2: metrics.windows: 2m is not one of the configured windows"),
        Bad(yaml: "metrics:\n  windows: [1m, 1m]\n", message: "c.yml:2: metrics.windows: 1m is listed twice"),
        Bad(yaml: "metrics:\n  windows: 1m\n", message: "c.yml:2: metrics.windows must be a list"),
        Bad(yaml: "metrics:\n  histograms: [retry_delay]\n", message: "c.yml:2: unknown key \"metrics.histograms\""),
        Bad(yaml: "metrics:\n  retry_delay: maybe\n", message: "c.yml:2: metrics.retry_delay"),
        Bad(
            yaml: "metrics:\n  retry_delay_protobuf: sparse\n",
            message: "c.yml:2: metrics.retry_delay_protobuf must be native, classic or both, not \"sparse\""),
        Bad(
            yaml: "metrics:\n  series:\n    - windows: [1h]\n",
            message: "c.yml:3: metrics.series[0]: match is required"),
        Bad(
            yaml: "metrics:\n  series:\n    - match: {}\n      windows: [1h]\n",
            message: "c.yml:3: metrics.series[0].match must name service, operation or both"),
        Bad(
            yaml: "metrics:\n  series:\n    - match: {service: \"pay ments\"}\n      retry_delay: false\n",
            message: "c.yml:3: metrics.series[0].match.service: \"pay ments\" is not a pattern"),
        Bad(
            yaml: "metrics:\n  series:\n    - match: {service: \"pay(.*)\"}\n      retry_delay: false\n",
            message: "metrics.series[0].match.service: \"pay(.*)\" is not a pattern"),
        Bad(
            yaml: "metrics:\n  series:\n    - match: {service: payments}\n",
            message: "c.yml:3: metrics.series[0]: give windows, retry_delay or both"),
        Bad(
            yaml:
                "metrics:\n  series:\n    - match: {service: a}\n      retry_delay: false\n    - match: {job: a}\n      retry_delay: false\n",
            message: "c.yml:5: unknown key \"metrics.series[1].match.job\""),
        Bad(
            yaml: "metrics:\n  series:\n    - match: {service: a}\n      windows: [30m]\n",
            message: "c.yml:4: metrics.series[0].windows: 30m is not one of the configured windows (1m, 5m, 15m, 1h)"),
    ])
    func badSectionsAreReportedWithTheirLine(_ bad: Bad) {
        let (_, problems) = Self.parse(bad.yaml)
        #expect(problems.contains { $0.contains(bad.message) }, "\(problems)")
    }

    @Test func globsMatchLikeAShell() throws {
        let cases: [(String, String, Bool)] = [
            ("*", "", true), ("*", "anything", true), ("refund", "refund", true), ("refund", "refunds", false),
            ("refund*", "refund", true), ("refund*", "refund_partial", true), ("*fund", "refund", true),
            ("r?fund", "refund", true), ("r?fund", "rfund", false), ("a*b*c", "aXXbYYc", true), ("a*b*c", "aXXbYY", false),
            ("*.v2", "api.v2", true), ("*.v2", "api.v1", false), ("a**", "a", true),
        ]
        for (pattern, name, expected) in cases {
            let glob = try #require(GlobPattern(pattern))
            #expect(glob.matches(name) == expected, "\(pattern) ~ \(name)")
        }
        #expect(GlobPattern("") == nil)
        #expect(GlobPattern("a|b") == nil)
    }

    @Test func aLeanConfigurationLeavesWindowsAndHistogramsOutOfEveryFormat() throws {
        // The golden state: windows 5m and 1h, series payments/refund (with retry delays) and support/create "ticket".
        var export = MetricsExportConfig()
        export.windows = [.hours(1)]
        export.series = [MetricsExportConfig.SeriesRule(service: GlobPattern("support")!, retryDelay: false)]
        let text = MetricsGolden.render(format: .text, export: export)
        let samples = ProtobufExpositionTests.textSamples(text)
        let everything = ProtobufExpositionTests.textSamples(MetricsGolden.render(format: .text))
        #expect(!samples.keys.contains { $0.contains(#"window="5m""#) })
        #expect(samples.keys.filter { $0.contains(#"window="1h""#) }.count == 4)
        #expect(!samples.keys.contains { $0.hasPrefix("dedup_retry_delay_seconds") && $0.contains("support") })
        #expect(samples.keys.filter { $0.hasPrefix("dedup_retry_delay_seconds") }.count == 21)
        // Everything else is untouched.
        let dropped = Set(everything.keys).subtracting(samples.keys)
        #expect(dropped.count == 4 + 21)
        #expect(samples.allSatisfy { everything[$0.key] == $0.value })
        #expect(text.contains("# TYPE dedup_duplicate_ratio gauge"))
        // The protobuf format leaves out the same samples.
        let protobuf = try ProtobufExpositionTests.protobufSamples(
            MetricFamilyDecoder.decode(MetricsGolden.renderProtobuf(export: export)))
        #expect(protobuf == samples)
    }

    @Test func noWindowAndNoHistogramLeavesThoseFamiliesOutOfTheProtobufFormat() throws {
        var export = MetricsExportConfig()
        export.windows = []
        export.retryDelay = false
        let families = try MetricFamilyDecoder.decode(MetricsGolden.renderProtobuf(export: export)).map(\.name)
        #expect(!families.contains(MetricsCatalog.duplicateRatio.name))
        #expect(!families.contains(MetricsCatalog.attempts.name))
        #expect(!families.contains(MetricsCatalog.retryDelay.name))
        #expect(families.contains(MetricsCatalog.events.name))
    }

    @Test func checkConfigReportsTheSection() throws {
        let dir = try TemporaryDirectory()
        let config = try dir.write("config.yml", "windows: [1m, 1h]\nmetrics:\n  windows: [5m]\n")
        let result = try ChildProcess.run(["check-config", config])
        #expect(result.status == 78)
        #expect((result.stdout + result.stderr).contains("\(config):3: metrics.windows: 5m is not one of the configured windows"))
    }

    @Test func theServiceServesProtobufWhenAskedAndTextOtherwise() async throws {
        let dir = try TemporaryDirectory()
        try await withService(database: dir.file("db.sqlite")) { service in
            let events = """
                [{"service":"payments","operation":"refund","outcome":"miss","key":"k1"},
                 {"service":"payments","operation":"refund","outcome":"hit","key":"k1","age_ms":1200},
                 {"service":"payments","operation":"refund","outcome":"hit","key":"k1","age_ms":40000}]
                """
            #expect(try await HTTP.post(service.baseURL + "/v1/events", events).status == 202)
            let reply = try await HTTP.get(
                service.baseURL + "/metrics", headers: [("Accept", ScrapeFormatTests.prometheusWithProtobuf)])
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: "Content-Type") == ScrapeFormat.protobufContentType)
            let families = try MetricFamilyDecoder.decode(Array(reply.body))
            let retry = try #require(families.first { $0.name == MetricsCatalog.retryDelay.name }?.metrics.first?.histogram)
            #expect(retry.count == 2 && retry.sum == 41.2)
            let buckets = retry.nativeBuckets.sorted { $0.key < $1.key }
            #expect(buckets.map(\.value) == [1, 1])
            // 1.2 s is in the classic bucket (1, 2.5], 40 s in (30, 60]: their native buckets end at 2.5 and 60.
            #expect(
                buckets.map { RetryDelayNativeLayout.upperBound(Int32($0.key)) }.map { ($0 * 100).rounded() / 100 } == [
                    2.5, 60.14,
                ])
            let events3 = try #require(families.first { $0.name == MetricsCatalog.events.name })
            #expect(events3.metrics.first { $0.labels["outcome"] == "hit" }?.counter == 2)

            let text = try await HTTP.get(service.baseURL + "/metrics")
            #expect(text.headers.first(name: "Content-Type") == ExpositionFormat.text.contentType)
            #expect(text.text.contains(#"dedup_retry_delay_seconds_bucket{service="payments",operation="refund",le="2.5"} 1"#))
        }
    }
}
