import DedupVitalsCore
import Testing

@testable import DedupVitalsServer

/// `/metrics` in chunks: families that span chunks keep one HELP/TYPE and every sample exactly once.
@Suite struct MetricsStreamTests {
    @Test func familiesSpanChunksWithoutRepeatsOrGaps() {
        let seriesCount = 3_000
        let events = (0..<seriesCount).map {
            Event(service: "svc", operation: "op\($0)", outcome: .hit, timeMs: 1_800_000_000_000)
        }
        var windows = RollingWindows()
        windows.apply(BatchDelta(events: events, receivedAtMs: 1_800_000_000_000, bucketWidthMs: BucketClock.defaultWidthMs))
        let durations: [PromDuration] = [.minutes(1), .minutes(5)]
        let snapshot = windows.snapshot(windows: durations, nowMs: 1_800_000_000_000)
        let renderer = MetricsRenderer(windows: durations, version: "test")

        var stream = renderer.stream(series: snapshot, counters: IngestCounters(), format: .text)
        var chunks: [String] = []
        while let chunk = stream.next() { chunks.append(String(buffer: chunk)) }
        #expect(chunks.count > 10, "the exposition should need many chunks")
        #expect(chunks.dropLast().allSatisfy { $0.utf8.count < MetricsStream.chunkSize + 64 * 4096 })
        #expect(chunks.allSatisfy { $0.hasSuffix("\n") }, "a chunk ends with a whole line")

        let lines = chunks.joined().split(separator: "\n")
        let types = lines.filter { $0.hasPrefix("# TYPE ") }
        #expect(types.count == Set(types).count, "each family declared once")
        for (family, perSeries) in [
            ("dedup_events_total{", 5), ("dedup_attempts{", 2),
            ("dedup_retry_delay_seconds_bucket{", RetryDelayHistogram.bounds.count + 1),
        ] {
            let samples = lines.filter { $0.hasPrefix(family) }
            #expect(samples.count == seriesCount * perSeries, "\(family)")
            #expect(Set(samples).count == samples.count, "\(family) samples are not repeated")
        }
        #expect(lines.contains("dedup_events_total{service=\"svc\",operation=\"op2999\",outcome=\"hit\"} 1"))
        // The whole exposition in one buffer is the same text.
        #expect(String(buffer: renderer.render(series: snapshot, counters: IngestCounters(), format: .text)) == chunks.joined())
    }
}
