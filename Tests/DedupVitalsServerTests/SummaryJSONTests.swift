import DedupVitalsCore
import Foundation
import Testing

@testable import DedupVitalsServer

/// `GET /v1/summary` is written by hand (SummaryDocument+JSON.swift): its bytes must be the bytes `JSONEncoder`
/// writes for the same document, on the real service and for the values that are hard to spell.
@Suite struct SummaryJSONTests {
    static let hostileNames = [
        "pay/ments", #"quo"te"#, #"back\slash"#, "tab\tnew\nline\r", "\u{8}\u{c}\u{1}\u{1f}\u{7f}", "é日本😀\u{2028}",
        "\u{202E}rtl", "",
    ]

    /// Names as the event rules allow them ([A-Za-z_][A-Za-z0-9_.-]{0,63}); the hostile strings are the unit test's.
    static let liveNames = ["payments", "_tickets.v2", "A-b_c.9", "x"]

    @Test("the live service answers the bytes JSONEncoder writes for its summary, alerts included")
    func liveSummaryIsJSONEncodersBytes() async throws {
        let dir = try TemporaryDirectory()
        let clock = TestClock(DedupVitalsService.systemClock())
        var config = AlertingLiveTests.config(db: dir.file("db.sqlite"), receivers: [])
        config.windows = [.minutes(1), .minutes(5), .minutes(15), .hours(1), .hours(6)]
        var rule = AlertingLiveTests.spikeRule
        rule.annotations["description"] = #"{{ $labels.service }}/"quoted" \ é"#
        let options = try AlertingLiveTests.options(rules: [rule], receivers: [])
        try await TestService.startAlerting(config: config, clock: clock.read, options: options).scoped { service in
            var events: [String] = []
            for (index, name) in Self.liveNames.enumerated() {
                let head = #""service":"\#(name)","operation":"op-\#(name)""#
                events += [
                    #"{\#(head),"outcome":"miss","key":"k\#(index)","client":"c-\#(name)"}"#,
                    #"{\#(head),"outcome":"hit","key":"k\#(index)","age_ms":\#(700 * index + 3),"client":"c-\#(name)"}"#,
                    #"{\#(head),"outcome":"miss","key":"k\#(index)","client":"other"}"#,
                    #"{\#(head),"outcome":"completed","key":"k\#(index)"}"#,
                    #"{\#(head),"outcome":"mismatch","key":"j\#(index)"}"#,
                ]
            }
            let reply = try await HTTP.post(service.baseURL + "/v1/events", "[" + events.joined(separator: ",") + "]")
            #expect(reply.status == 202, "\(reply.text)")
            try await AlertingLiveTests.spike(service)
            #expect(
                try await eventually { try await (service.getJSON("/v1/summary")["alerts"] as? [Any])?.count == 1 },
                "an alert fires, so that the alerts are in the document compared")

            let controller = ReadController(
                live: service.service.live, store: service.service.store, state: service.service.state, clock: clock.read,
                alerting: service.service.alerting)
            let answer = try await HTTP.get(service.baseURL + "/v1/summary")
            #expect(answer.status == 200)
            let expected = try ReadController.jsonEncoder().encode(controller.summaryDocument())
            #expect(answer.text == String(decoding: expected, as: UTF8.self))
            let series = try #require(answer.json["series"] as? [[String: Any]])
            #expect(series.count == Self.liveNames.count + 1)
            #expect(series.contains { ($0["top_clients"] as? [Any])?.count == 2 }, "callers are in the document compared")
            #expect(series.contains { ($0["retry_delay"] as? [String: Any])?["p99_seconds"] != nil })
        }
    }

    @Test("numbers, empty and absent values are spelled as JSONEncoder spells them")
    func edgeValues() throws {
        var document = SummaryDocument(snapshot: [], windows: [.minutes(1), .minutes(15), .hours(1)], nowMs: 1_800_000_000_123)
        let ratios = [0, 0.4, 1, 1.0 / 3, 0.1 + 0.2, 1e-7, .leastNonzeroMagnitude, 2.5e15, 1e16, 86400, 123_456_789.5, -0.0]
        document.overall = ["1m": Self.counts(ratio: 0.25), "15m": Self.counts(ratio: 1), "1h": Self.counts(ratio: 0)]
        document.series = ratios.enumerated().map { index, ratio in
            SummaryDocument.Series(
                service: Self.hostileNames[index % Self.hostileNames.count], operation: "op\(index)",
                lastSeen: "2027-01-15T08:00:00.000Z", totals: Self.counts(ratio: ratio),
                windows: index == 0
                    ? [:] : ["1m": Self.counts(ratio: ratio), "1h": Self.counts(ratio: 0), "15m": Self.counts(ratio: 1)],
                inFlightKeys: index, staleInFlightKeys: -index, doubleExecutions: Int64.max - Int64(index),
                lateRetries: Int64.min + Int64(index), suspectedNarrowKeys: 0,
                retryDelay: .init(
                    count: Int64(index), p50Seconds: index % 2 == 0 ? nil : ratio, p99Seconds: index % 3 == 0 ? nil : ratio * 2,
                    dedupWindowSeconds: ratio),
                topClients: (0..<(index % 3)).map {
                    .init(client: Self.hostileNames[$0], attempts: Int64($0), duplicates: 1, duplicateRatio: ratio)
                })
        }
        let expected = try ReadController.jsonEncoder().encode(document)
        let written = try document.jsonBytes()
        #expect(String(decoding: written, as: UTF8.self) == String(decoding: expected, as: UTF8.self))
        #expect(written == Array(expected))
    }

    @Test("a number JSON cannot spell is refused, as JSONEncoder refuses it")
    func nonFiniteNumbers() {
        for value in [Double.nan, .infinity, -.infinity] {
            var document = SummaryDocument(snapshot: [], windows: [.minutes(1)], nowMs: 0)
            document.overall = ["1m": Self.counts(ratio: value)]
            #expect(throws: JSONOutput.NonFiniteNumber.self) { try document.jsonBytes() }
            #expect(throws: (any Error).self) { try ReadController.jsonEncoder().encode(document) }
        }
    }

    static func counts(ratio: Double) -> SummaryDocument.Counts {
        var counts = SummaryDocument.Counts(OutcomeCounts(miss: 3, hit: 1, inFlight: 2, completed: 9, mismatch: 1))
        counts.duplicateRatio = ratio
        return counts
    }

    static func jsonString(_ text: String) throws -> String {
        String(decoding: try JSONEncoder().encode(text), as: UTF8.self)
    }
}
