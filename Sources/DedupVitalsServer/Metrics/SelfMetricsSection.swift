import DedupVitalsCore
import DedupVitalsStorage

/// The families about the service itself: request latency, group commit, database files, rule evaluation, reloads,
/// and the standard `process_*` ones. HELP and TYPE are always written, even without samples.
struct SelfMetricsSection {
    let metrics: SelfMetrics?

    func write(into writer: inout some MetricsSink) {
        let metrics = self.metrics
        writer.family(MetricsCatalog.httpRequestDuration)
        for (key, histogram) in (metrics?.httpRequests ?? [:]).sorted(by: { $0.key < $1.key }) {
            writer.histogram(MetricsCatalog.httpRequestDuration, [key.route, key.statusClass], histogram)
        }
        histogram(MetricsCatalog.commitGroupSize, metrics?.commits.groupSize, into: &writer)
        histogram(MetricsCatalog.commitDuration, metrics?.commits.commitDuration, into: &writer)
        histogram(MetricsCatalog.durableLatency, metrics?.commits.durableLatency, into: &writer)
        gauge(MetricsCatalog.databaseSize, metrics.map { Double($0.databaseBytes) }, into: &writer)
        gauge(MetricsCatalog.walSize, metrics.map { Double($0.walBytes) }, into: &writer)
        histogram(MetricsCatalog.ruleEvaluationDuration, metrics?.ruleEvaluationDuration, into: &writer)
        gauge(MetricsCatalog.ruleEvaluations, metrics.map { Double($0.ruleEvaluations) }, into: &writer)
        gauge(MetricsCatalog.ruleEvaluationFailures, metrics.map { Double($0.ruleEvaluationFailures) }, into: &writer)
        gauge(MetricsCatalog.reloadSuccessful, metrics.map { $0.reload.successful ? 1 : 0 }, into: &writer)
        gauge(MetricsCatalog.reloadSuccessTimestamp, metrics.map(\.reload.lastSuccessSeconds), into: &writer)
        let process = metrics?.process
        gauge(MetricsCatalog.processCPU, process?.cpuSeconds, into: &writer)
        gauge(MetricsCatalog.processResidentMemory, process.map { Double($0.residentMemoryBytes) }, into: &writer)
        gauge(MetricsCatalog.processVirtualMemory, process.map { Double($0.virtualMemoryBytes) }, into: &writer)
        gauge(MetricsCatalog.processOpenFDs, process.map { Double($0.openFileDescriptors) }, into: &writer)
        gauge(MetricsCatalog.processMaxFDs, process.map { Double($0.maxFileDescriptors) }, into: &writer)
        gauge(MetricsCatalog.processStartTime, process?.startTimeSeconds, into: &writer)
    }

    /// A family of one unlabelled sample (gauge or counter), or none.
    private func gauge(_ family: MetricFamily, _ value: Double?, into writer: inout some MetricsSink) {
        writer.family(family)
        if let value { writer.sample(family, [], value) }
    }

    private func histogram(_ family: MetricFamily, _ histogram: BucketHistogram?, into writer: inout some MetricsSink) {
        writer.family(family)
        if let histogram { writer.histogram(family, [], histogram) }
    }
}
