import DedupVitalsCore
import Foundation
import Testing

@testable import DedupVitalsTerminal

/// The summary and the series history are read by hand (Client/SummaryReader.swift, SeriesHistoryReader.swift): they
/// must read what the `Decodable` conformances read, from the real service and from the spellings another service
/// (or a proxy) could answer with.
@Suite struct SummaryReaderTests {
    @Test("the summary of a real service reads as JSONDecoder reads it, forensics and callers included")
    func liveSummary() async throws {
        try await LiveService.run { client, raw in
            let now = LiveService.nowMs
            var events: [Event] = []
            for (index, service) in ["payments", "_tickets.v2", "A-b_c.9"].enumerated() {
                for operation in ["refund", "op.\(index)"] {
                    events += [
                        Event(service: service, operation: operation, outcome: .miss, key: "a", client: "web", timeMs: now),
                        Event(
                            service: service, operation: operation, outcome: .hit, key: "a", client: "web", timeMs: now,
                            ageMs: 40 + Int64(index) * 900),
                        Event(service: service, operation: operation, outcome: .miss, key: "a", client: "batch", timeMs: now),
                        Event(service: service, operation: operation, outcome: .completed, key: "b", timeMs: now),
                        Event(service: service, operation: operation, outcome: .mismatch, key: "c", timeMs: now),
                    ]
                }
            }
            try await LiveService.post(events, to: client)
            let body = try await raw.execute(uri: "/v1/summary", method: .get).body
            let read = try Self.read(Array(body.readableBytesView))
            #expect(read == (try JSONDecoder().decode(SummaryResponse.self, from: Data(body.readableBytesView))))
            #expect(try await client.summary().series.map(\.id) == read.series.map(\.id))

            // And what it reads is what was sent, so that the two readers are not wrong the same way.
            #expect(read.windows == ["1m", "5m", "15m", "1h"])
            #expect(read.series.count == 6)
            let first = try #require(read.series.first { $0.id == "payments/refund" })
            #expect(first.totals.counts == OutcomeCounts(miss: 2, hit: 1, inFlight: 0, completed: 1, mismatch: 1))
            #expect(first.windows["1m"]?.counts == first.totals.counts)
            #expect(first.doubleExecutions == 1)
            #expect(first.inFlightKeys == 1)
            #expect(first.retryDelay?.p50Seconds != nil && first.retryDelay?.dedupWindowSeconds == 86400)
            #expect(first.topClients.map(\.client).sorted() == ["batch", "web"])
            #expect(read.overall["1h"]?.counts.attempts == 24, "4 attempts in each of 6 series")
            #expect(read.generatedAt?.hasSuffix("Z") == true && read.series.allSatisfy { $0.lastSeen != nil })
        }
    }

    @Test("spellings the service does not use read as JSONDecoder reads them")
    func otherSpellings() throws {
        let counts = #"{"miss":1,"hit":2,"in_flight":3,"completed":4,"mismatch":5,"attempts":11,"duplicate_ratio":0.2}"#
        let series = #"{"service":"s","operation":"o","totals":\#(counts),"windows":{"1m":\#(counts)}"#
        let documents = [
            // Whitespace everywhere, fields in another order, unknown fields of every kind.
            """
             { "series" : [ { "windows" : { "1m" : { "hit" : 7 , "x" : [ 1 , { } , "y" , true , false , null ] } } ,
               "operation" : "o" , "service" : "s" , "extra" : { "a" : [ ] } } ] , "windows" : [ "1m" ] , "v" : -1.5e-3 }\t\r\n
            """,
            // Escapes in strings and in field names, non-ASCII text.
            #"{"windows":["1m","\u0035m"],"series":[{"service":"p\"a\\y\/\u00e9\ud83d\ude00\n","\u006fperation":"o","totals":{"m\u0069ss":4}}]}"#,
            // null where a value may be absent; forensics, last_seen, retry_delay, top_clients, alerts of another type.
            #"{"windows":["1m"],"overall":null,"generated_at":7,"alerts":{"a":1},"series":[{"service":"s","operation":"o","#
                + #""last_seen":null,"totals":null,"windows":null,"in_flight_keys":"3","stale_in_flight_keys":null,"#
                + #""double_executions":1.5,"late_retries":[],"suspected_narrow_keys":{},"retry_delay":{"p50_seconds":"x"},"#
                + #""top_clients":[{"client":"c"}]}]}"#,
            // Numbers spelled otherwise: exponents, fractions of whole numbers, negative, large.
            #"{"windows":["1m"],"series":[{"service":"s","operation":"o","totals":{"miss":1e3,"hit":2.0,"in_flight":-4,"#
                + #""completed":9223372036854775807},"in_flight_keys":12E1,"retry_delay":{"p50_seconds":1,"p99_seconds":2.5e-1,"#
                + #""dedup_window_seconds":86400},"top_clients":[{"client":"c","attempts":3,"duplicates":1,"duplicate_ratio":0.3333333333333333}]}]}"#,
            // Forensics present, alerts present.
            #"{"windows":["1m"],"series":[\#(series),"in_flight_keys":1,"stale_in_flight_keys":0,"double_executions":2,"#
                + #""late_retries":3,"suspected_narrow_keys":4}],"alerts":[]}"#,
            #"{"windows":[],"series":[]}"#,
        ]
        for document in documents {
            let expected = try JSONDecoder().decode(SummaryResponse.self, from: Data(document.utf8))
            #expect(try Self.read(Array(document.utf8)) == expected, "\(document)")
        }
    }

    @Test("what JSONDecoder refuses is refused")
    func refusals() {
        let documents = [
            "", "[]", "null", #"{"windows":["1m"]}"#, #"{"series":[]}"#, #"{"windows":["1m"],"series":[{"service":"s"}]}"#,
            #"{"windows":["1m"],"series":[{"service":"s","operation":null}]}"#,
            #"{"windows":["1m"],"series":[{"service":"s","operation":"o","totals":{"miss":"1"}}]}"#,
            #"{"windows":["1m"],"series":[{"service":"s","operation":"o","totals":{"miss":1.5}}]}"#,
            #"{"windows":["1m"],"series":[{"service":"s","operation":"o","totals":{"miss":99999999999999999999}}]}"#,
            #"{"windows":[1],"series":[]}"#, #"{"windows":["1m"],"series":[]} x"#,
            #"{"windows":["1m"] "series":[]}"#, #"{"windows":["1m"],"series":[01]}"#, #"{"windows":["1m"],"series":[]"#,
            #"{"windows":["1m\u"],"series":[]}"#, "{\"windows\":[\"1\nm\"],\"series\":[]}",
            #"{"windows":["1m"],"series":[{"service":"s","operation":"o","in_flight_keys":[1,}]}"#,
        ]
        for document in documents {
            #expect(throws: (any Error).self, "JSONDecoder: \(document)") {
                try JSONDecoder().decode(SummaryResponse.self, from: Data(document.utf8))
            }
            #expect(throws: (any Error).self, "SummaryReader: \(document)") { try Self.read(Array(document.utf8)) }
        }
        #expect(throws: (any Error).self) {
            try Self.read(Array(#"{"series":[],"windows":[""#.utf8) + [0xFF] + Array(#""]}"#.utf8))
        }
    }

    @Test("the history of a real series reads as JSONDecoder reads it")
    func liveHistory() async throws {
        try await LiveService.run { client, raw in
            let now = LiveService.nowMs
            try await LiveService.post(
                [
                    Event(service: "payments", operation: "refund", outcome: .miss, key: "a", timeMs: now - 200_000),
                    Event(service: "payments", operation: "refund", outcome: .hit, key: "a", timeMs: now, ageMs: 5),
                    Event(service: "payments", operation: "refund", outcome: .mismatch, key: "b", timeMs: now),
                ], to: client)
            for (window, step, count) in [("15m", "10s", 90), ("1h", "1m", 60)] {
                let uri = "/v1/series?service=payments&operation=refund&window=\(window)&step=\(step)"
                let body = Array(try await raw.execute(uri: uri, method: .get).body.readableBytesView)
                let read = try body.withUnsafeBufferPointer { try SeriesHistoryReader.read($0) }
                #expect(read == (try JSONDecoder().decode(SeriesHistory.self, from: Data(body))))
                #expect(read.points.count == count && read.window == window && read.step == step)
                #expect(read.points.reduce(WindowCounts.zero) { $0 + $1.counts }.counts.attempts == 3)
                #expect(read.points.allSatisfy { $0.start.hasSuffix("Z") })
            }
            let fetched = try await client.series(service: "payments", operation: "refund", window: "15m", step: "10s")
            // Summed over the points: a step boundary may pass between the post and the fetch.
            #expect(fetched?.points.reduce(0) { $0 + $1.counts.hit + $1.counts.mismatch } == 2)
        }
    }

    @Test("history spellings read, and history refusals refused, as JSONDecoder's")
    func historySpellings() throws {
        let point = #"{"start":"2027-01-15T08:00:00.000Z","miss":1,"hit":2,"duplicate_ratio":0.5,"x":[{}]}"#
        let head = #""service":"s","operation":"o","window":"15m","step":"10s""#
        let readable = [
            #"{\#(head),"points":[\#(point),\#(point)],"generated_at":"2027-01-15T08:00:00.000Z"}"#,
            #" { "points" : [ ] , "step":"1m","window":"1h","operation":"\u006f","service":"s\"" } "#,
        ]
        for document in readable {
            let read = try Array(document.utf8).withUnsafeBufferPointer { try SeriesHistoryReader.read($0) }
            #expect(read == (try JSONDecoder().decode(SeriesHistory.self, from: Data(document.utf8))), "\(document)")
        }
        let refused = [
            #"{\#(head)}"#, #"{"service":"s","operation":"o","window":"15m","points":[]}"#,
            #"{\#(head),"points":[{"miss":1}]}"#, #"{\#(head),"points":[{"start":null}]}"#,
            #"{\#(head),"points":[{"start":"t","hit":"2"}]}"#, #"{\#(head),"points":null}"#,
        ]
        for document in refused {
            #expect(throws: (any Error).self) { try JSONDecoder().decode(SeriesHistory.self, from: Data(document.utf8)) }
            #expect(throws: (any Error).self, "\(document)") {
                try Array(document.utf8).withUnsafeBufferPointer { try SeriesHistoryReader.read($0) }
            }
        }
    }

    static func read(_ bytes: [UInt8]) throws -> SummaryResponse {
        try bytes.withUnsafeBufferPointer { try SummaryReader.read($0) }
    }
}
