import DedupVitalsReporter
import Logging
import Metrics
import MetricsTestKit
import ServiceLifecycle

/// A reporter running in a `ServiceGroup`, as a service would run it, with its metrics in a `TestMetrics`.
struct ReporterHarness {
    let reporter: DecisionReporter
    let metrics = TestMetrics()
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    init(_ configuration: ReporterConfiguration) {
        var logger = Logger(label: "reporter-test")
        logger.logLevel = .notice
        reporter = DecisionReporter(configuration: configuration, logger: logger, metricsFactory: metrics)
        let group = ServiceGroup(configuration: .init(services: [reporter], logger: logger))
        self.group = group
        task = Task { try await group.run() }
    }

    /// Graceful shutdown: the reporter flushes within its flush timeout; returns when it has stopped.
    func shutdown() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }

    func counter(_ label: String, _ dimensions: [(String, String)] = []) -> Int64 {
        metrics.counterTotal(label: label, dimensions: dimensions)
    }

    /// Records `count` decisions of one series: `miss` and `completed` in turn, one key per pair.
    func recordPairs(_ count: Int, service: String, from start: Int = 0) {
        for i in start..<(start + count) {
            reporter.record(
                service: service, operation: "refund", outcome: i % 2 == 0 ? .miss : .completed, key: "key-\(i / 2)")
        }
    }
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}

func testConfiguration(_ endpoint: String) -> ReporterConfiguration {
    var configuration = ReporterConfiguration(endpoint: endpoint)
    configuration.linger = .milliseconds(100)
    configuration.maxBatchSize = 50
    configuration.initialBackoff = .milliseconds(50)
    configuration.maxBackoff = .milliseconds(400)
    configuration.requestTimeout = .seconds(5)
    configuration.shutdownFlushTimeout = .seconds(10)
    return configuration
}
