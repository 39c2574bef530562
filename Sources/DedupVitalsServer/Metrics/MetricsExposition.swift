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

    /// The same in any scrape format, with what `export` (the `metrics:` section) selects.
    public static func render(
        series: [RollingWindows.SeriesWindows], windows: [PromDuration], counters: IngestCounters, format: ScrapeFormat,
        export: MetricsExportConfig = MetricsExportConfig(), version: String = DedupVitalsVersion.current
    ) -> ByteBuffer {
        let renderer = MetricsRenderer(windows: windows, version: version, export: export)
        return switch format {
        case .exposition(let format): renderer.render(series: series, counters: counters, format: format)
        case .protobuf: renderer.renderProtobuf(series: series, counters: counters)
        }
    }
}
