import DedupVitalsCore
import Foundation
import NIOCore
import Testing

@testable import DedupVitalsServer

/// The whole `/metrics` text for a small fixed state, in both formats, pinned byte for byte. A change to the
/// exposition shows here first; after a deliberate change, regenerate with `UPDATE_GOLDEN=1 swift test --filter
/// MetricsGoldenTests` and review the diff.
@Suite struct MetricsGoldenTests {
    @Test(arguments: [ExpositionFormat.text, .openMetrics])
    func expositionMatchesTheGoldenFile(format: ExpositionFormat) throws {
        let url = MetricsGolden.file(format)
        let rendered = MetricsGolden.render(format: format)
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try rendered.write(to: url, atomically: true, encoding: .utf8)
        }
        let golden = try String(contentsOf: url, encoding: .utf8)
        #expect(rendered == golden, "\(url.lastPathComponent) differs: regenerate with UPDATE_GOLDEN=1 after a deliberate change")
    }
}

/// The fixed state of the golden files: two series with every outcome, keys in flight, retry delays, a firing
/// alert, a receiver with deliveries, counters of answered requests, and fixed measurements of the service itself.
enum MetricsGolden {
    static func file(_ format: ExpositionFormat) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Golden/metrics.\(format == .text ? "txt" : "openmetrics.txt")")
    }

    /// Fixed measurements of the service itself (the live ones come from clocks and `/proc`).
    static var selfMetrics: SelfMetrics {
        let http = HTTPRequestMetrics()
        http.observe(route: "/v1/events", status: 202, seconds: 0.003)
        http.observe(route: "/v1/events", status: 202, seconds: 0.2)
        http.observe(route: "/v1/events", status: 429, seconds: 0.001)
        http.observe(route: "/v1/keys/lookup", status: 404, seconds: 0.0005)
        var metrics = SelfMetrics(httpRequests: http.snapshot, databaseBytes: 4096 * 25, walBytes: 4_120_032)
        for (requests, seconds) in [(1, 0.0004), (12, 0.0012), (60, 0.03)] {
            metrics.commits.groupSize.observe(Double(requests))
            metrics.commits.commitDuration.observe(seconds)
            for _ in 0..<requests { metrics.commits.durableLatency.observe(seconds * 2) }
        }
        metrics.ruleEvaluationDuration.observe(0.0021)
        metrics.ruleEvaluationDuration.observe(0.0035)
        metrics.ruleEvaluations = 2
        metrics.ruleEvaluationFailures = 1
        metrics.reload = .init(successful: false, lastSuccessSeconds: 1_800_000_000)
        metrics.process = ProcessMetrics(
            cpuSeconds: 12.34, residentMemoryBytes: 52_428_800, virtualMemoryBytes: 1_073_741_824, openFileDescriptors: 17,
            maxFileDescriptors: 1024, startTimeSeconds: 1_799_990_000.25)
        return metrics
    }

    static func render(format: ExpositionFormat) -> String {
        render(format: format, export: MetricsExportConfig())
    }

    /// The same state in the protobuf format, with what `export` selects.
    static func renderProtobuf(export: MetricsExportConfig = MetricsExportConfig()) -> [UInt8] {
        var fixture = fixture()
        fixture.renderer.export = export
        let buffer = fixture.renderer.renderProtobuf(
            series: fixture.series, forensics: fixture.forensics, counters: fixture.counters, alerting: fixture.alerting,
            selfMetrics: selfMetrics)
        return Array(buffer.readableBytesView)
    }

    /// The text formats with what `export` selects.
    static func render(format: ExpositionFormat, export: MetricsExportConfig) -> String {
        var fixture = fixture()
        fixture.renderer.export = export
        let buffer = fixture.renderer.render(
            series: fixture.series, forensics: fixture.forensics, counters: fixture.counters, format: format,
            alerting: fixture.alerting, selfMetrics: selfMetrics)
        return String(buffer: buffer)
    }

    struct Fixture {
        var renderer: MetricsRenderer
        var series: [RollingWindows.SeriesWindows]
        var forensics: MetricsRenderer.Forensics
        var counters: IngestCounters
        var alerting: AlertingState
    }

    static func fixture() -> Fixture {
        let t0: Int64 = 1_800_000_000_000
        let payments = SeriesKey(service: "payments", operation: "refund")
        let tickets = SeriesKey(service: "support", operation: "create \"ticket\"")
        var events: [Event] = []
        for (index, outcome) in [Outcome.miss, .hit, .hit, .inFlight, .completed, .mismatch].enumerated() {
            events.append(
                Event(
                    service: payments.service, operation: payments.operation, outcome: outcome, timeMs: t0 - Int64(index) * 1_000)
            )
        }
        events.append(Event(service: tickets.service, operation: tickets.operation, outcome: .miss, timeMs: t0 - 400_000))
        var windows = RollingWindows()
        windows.apply(BatchDelta(events: events, receivedAtMs: t0, bucketWidthMs: BucketClock.defaultWidthMs))
        let durations: [PromDuration] = [.minutes(5), .hours(1)]
        var delays = RetryDelayHistogram()
        for seconds in [0.05, 0.3, 2, 45, 90_000] { delays.observe(seconds: seconds) }
        let series = windows.snapshot(windows: durations, nowMs: t0)
        let forensics = MetricsRenderer.Forensics(
            staleInFlightKeys: [payments: 1], trackedKeys: 3, evictions: 4,
            figures: KeyForensics.SeriesFigures(
                series: series.map(\.series), inFlightKeys: [payments: 2], retryDelays: [payments: delays]))
        let counters = IngestCounters()
        counters.record(code: 202, events: 7, result: .accepted)
        counters.record(code: 400, events: 1, result: .rejected)
        counters.limits.recordSeriesLimitRejection()
        let alerting = AlertingState(receivers: ["ops"], externalURL: "http://127.0.0.1:9470")
        alerting.publish([
            AlertInstance(
                key: .init(rule: "DuplicateAttemptSpike", series: payments), state: .firing, activeAtMs: t0 - 60_000,
                value: 0.5, labels: ["severity": "warning"], annotations: [:]),
            AlertInstance(
                key: .init(rule: "StaleInFlightKeys", series: tickets), state: .pending, activeAtMs: t0, value: 1,
                labels: ["severity": "page"], annotations: [:]),
        ])
        alerting.recordDelivery(receiver: "ops", result: .success)
        alerting.setQueueDepth(["ops": 2])
        alerting.recordDeliveryDuration(receiver: "ops", seconds: 0.042)
        return Fixture(
            renderer: MetricsRenderer(windows: durations, version: "1.2.3"),
            series: series, forensics: forensics, counters: counters,
            alerting: alerting)
    }
}
