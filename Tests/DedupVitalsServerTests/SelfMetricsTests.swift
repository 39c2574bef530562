import DedupVitalsCore
import Foundation
import Testing

@testable import DedupVitalsServer

/// The service's measurements of itself, read from a live service over HTTP.
@Suite struct SelfMetricsTests {
    @Test func processFiguresComeFromProcSelf() throws {
        let figures = try #require(ProcessMetrics.current())
        #expect(figures.cpuSeconds > 0)
        #expect(figures.residentMemoryBytes > 1_000_000)
        #expect(figures.virtualMemoryBytes >= figures.residentMemoryBytes)
        #expect(figures.openFileDescriptors >= 3 && figures.openFileDescriptors <= figures.maxFileDescriptors)
        let now = Date().timeIntervalSince1970
        // This test process started at most an hour ago, and not in the future.
        #expect(figures.startTimeSeconds <= now + 1 && figures.startTimeSeconds > now - 3600, "\(figures.startTimeSeconds)")
    }

    @Test func statFieldsStartAfterTheLastParenthesisOfTheCommandName() throws {
        let fields = try #require(ProcessMetrics.statFields("42 (a) b (c)) S 1 2 3"))
        #expect(fields == ["S", "1", "2", "3"])
    }

    @Test func liveServiceExportsRequestCommitAndProcessFamilies() async throws {
        let directory = try TemporaryDirectory()
        let service = try await TestService.start(database: directory.file("db.sqlite"))
        let events = #"[{"service":"pay","operation":"refund","outcome":"miss","key":"k1"}]"#
        for _ in 0..<3 { #expect(try await HTTP.post(service.baseURL + "/v1/events", events).status == 202) }
        #expect(try await HTTP.post(service.baseURL + "/v1/events", "not json").status == 400)
        _ = try await HTTP.get(service.baseURL + "/v1/keys/lookup?service=pay&operation=refund&key=k1")
        let text = try await HTTP.get(service.baseURL + "/metrics").text
        try await service.stop()

        #expect(text.contains(#"dedup_http_request_duration_seconds_count{route="/v1/events",status_class="2xx"} 3"#), "\(text)")
        #expect(text.contains(#"dedup_http_request_duration_seconds_count{route="/v1/events",status_class="4xx"} 1"#))
        // The route template, never the raw path.
        #expect(text.contains(#"dedup_http_request_duration_seconds_count{route="/v1/keys/lookup",status_class="2xx"} 1"#))
        #expect(!text.contains("key=k1"))
        #expect(text.contains("dedup_commit_group_size_count 3"))
        #expect(text.contains("dedup_ingest_durable_latency_seconds_count 3"))
        #expect(text.contains("dedup_commit_duration_seconds_count 3"))
        #expect(text.contains("dedup_config_last_reload_successful 1"))
        let database = try #require(Self.value(of: "dedup_database_size_bytes", in: text))
        let wal = try #require(Self.value(of: "dedup_wal_size_bytes", in: text))
        #expect(database >= 4096 && wal > 0, "database \(database), wal \(wal)")
        let rss = try #require(Self.value(of: "process_resident_memory_bytes", in: text))
        #expect(rss > 1_000_000)
        #expect(try #require(Self.value(of: "process_open_fds", in: text)) >= 3)
    }

    static func value(of name: String, in text: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
    }
}
