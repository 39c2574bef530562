import DedupVitalsCore
import NIOCore

/// Renders the `GET /metrics` exposition from a snapshot of rolling windows, without a running service.
///
/// The same code path as the endpoint (``ReadController`` uses ``MetricsRenderer`` directly); public for the
/// benchmarks in `Benchmarks/` and for tools.
public enum MetricsExposition {
    /// - Parameters:
    ///   - series: `RollingWindows.snapshot(windows:nowMs:)` taken for `windows`.
    ///   - windows: the configured windows, in the order of each series' `windows`.
    public static func render(
        series: [RollingWindows.SeriesWindows], windows: [PromDuration], counters: IngestCounters,
        format: ExpositionFormat, version: String = DedupVitalsVersion.current
    ) -> ByteBuffer {
        MetricsRenderer(windows: windows, version: version).render(series: series, counters: counters, format: format)
    }
}
