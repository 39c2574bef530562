import DedupVitalsCore
import Testing

@Suite struct EventDecoderTests {
    static let now: Int64 = 1_800_000_000_000
    let decoder = EventDecoder(maxEvents: 100)

    func decode(_ text: String, _ format: BodyFormat = .json) throws(EventDecodingError) -> [Event] {
        try decoder.decode(Array(text.utf8), format: format, nowMs: Self.now)
    }

    func error(_ text: String, _ format: BodyFormat = .json) -> EventDecodingError? {
        do {
            _ = try decode(text, format)
            return nil
        } catch {
            return error
        }
    }

    @Test func decodesEveryFieldAndDefaultsTsToNow() throws {
        let events = try decode(
            #"""
            {"service":"payments","operation":"refund","outcome":"in_flight","key":"k-1","payload":"p","client":"api.gw-1","age_ms":250,"extra":{"nested":[1,2,{"a":null}]}}
            """#)
        #expect(
            events == [
                Event(
                    service: "payments", operation: "refund", outcome: .inFlight, key: "k-1", payload: "p", client: "api.gw-1",
                    timeMs: Self.now, ageMs: 250)
            ])
        #expect(try decode(#"{"service":"a","operation":"b","outcome":"miss","key":null}"#)[0].key == nil)
    }

    @Test func traceAndSpanIDsAreW3CHexAndSpanNeedsATrace() throws {
        let base = #"{"service":"a","operation":"b","outcome":"miss","key":"k""#
        let trace = "4BF92F3577B34DA6A3CE929D0E0E4736"
        let events = try decode(base + #","trace_id":"\#(trace)","span_id":"00f067aa0ba902b7"}"#)
        #expect(events[0].trace?.traceIDHex == trace.lowercased() && events[0].trace?.spanIDHex == "00f067aa0ba902b7")
        #expect(try decode(base + #","trace_id":"\#(trace)","span_id":null}"#)[0].trace?.spanIDHex == nil)
        #expect(try decode(base + #","trace_id":null,"span_id":null}"#)[0].trace == nil)
        for (fields, field) in [
            (#","trace_id":"\#(String(repeating: "0", count: 32))""#, "trace_id"),
            (#","trace_id":"\#(trace.dropLast())""#, "trace_id"),
            (#","trace_id":"S/kvNXezTaajzpKdDg5HNg==""#, "trace_id"),
            (#","trace_id":12"#, "trace_id"),
            (#","trace_id":"\#(trace)","span_id":"0000000000000000""#, "span_id"),
            (#","trace_id":"\#(trace)","span_id":"00f067aa0ba902bz""#, "span_id"),
            (#","span_id":"00f067aa0ba902b7""#, "span_id"),
        ] {
            guard case .invalidEvent(_, 0, let named) = error(base + fields + "}") else {
                Issue.record("accepted: \(fields)")
                continue
            }
            #expect(named == field, "\(fields)")
        }
    }

    @Test func acceptsRFC3339AndUnixSecondsTimestamps() throws {
        func ts(_ value: String) throws -> Int64 {
            try decode(#"{"service":"a","operation":"b","outcome":"hit","ts":\#(value)}"#)[0].timeMs
        }
        #expect(try ts("1800000000") == Self.now)
        #expect(try ts("1799999999.5") == Self.now - 500)
        #expect(try ts("1.8e9") == Self.now)
        #expect(try ts(#""2027-01-15T08:00:00Z""#) == Self.now)
        #expect(try ts(#""2027-01-15T09:30:00.250+01:30""#) == Self.now + 250)
        #expect(try ts(#""2027-01-15t07:59:59.999z""#) == Self.now - 1)
        // The accepted range: now - 1h .. now + 5m, inclusive.
        #expect(try ts("1799996400") == Self.now - 3_600_000)
        #expect(try ts("1800000300") == Self.now + 300_000)
        #expect(
            error(#"{"service":"a","operation":"b","outcome":"hit","ts":1799996399.999}"#)
                == .invalidEvent(message: "ts must lie between now - 1h and now + 5m", index: 0, field: "ts"))
        #expect(error(#"{"service":"a","operation":"b","outcome":"hit","ts":"2027-02-30T00:00:00Z"}"#) != nil)
        #expect(error(#"{"service":"a","operation":"b","outcome":"hit","ts":true}"#) != nil)
    }

    @Test func decodesEscapesAndSurrogatePairsAndValidatesUTF8() throws {
        let events = try decode(#"{"service":"a","operation":"b","outcome":"hit","key":"\u00e9\ud83d\ude00\n\"x\""}"#)
        #expect(events[0].key == "é😀\n\"x\"")
        #expect(try decode(#"{"serv\u0069ce":"a","operation":"b","outcome":"hit"}"#)[0].service == "a")
        #expect(error(#"{"service":"a","operation":"b","outcome":"hit","key":"\ud83d"}"#) != nil)
        #expect(error(#"{"service":"a","operation":"b","outcome":"hit","key":"\q"}"#) != nil)
        #expect(error("{\"service\":\"a\",\"operation\":\"b\",\"outcome\":\"hit\",\"key\":\"a\u{1}b\"}") != nil)
        var overlong = Array(#"{"service":"a","operation":"b","outcome":"hit","key":""#.utf8)
        overlong += [0xC0, 0xAF] + Array(#""}"#.utf8)
        #expect(throws: EventDecodingError.self) { try decoder.decode(overlong, format: .json, nowMs: Self.now) }
    }

    @Test func unicodeLookalikesAreNotValidNames() {
        // Cyrillic "а" in "pаyments" and a fullwidth letter.
        #expect(
            error(#"{"service":"p\#u{0430}yments","operation":"b","outcome":"hit"}"#)
                == .invalidEvent(message: "service must match [A-Za-z_][A-Za-z0-9_.-]{0,63}", index: 0, field: "service"))
        #expect(error(#"{"service":"a","operation":"\#u{FF52}efund","outcome":"hit"}"#) != nil)
        #expect(error(#"{"service":"1abc","operation":"b","outcome":"hit"}"#) != nil)
    }

    @Test func reportsLineAndColumnOfSyntaxErrors() {
        #expect(
            error("[\n  {\"service\": \"a\",\n   \"operation\" \"b\"}]")
                == .invalidJSON(message: "expected ':' after the field name", line: 3, column: 16))
        #expect(
            error("{\"service\":\"a\",\"operation\":\"b\",\"outcome\":\"hit\"}\n{\"service\"", .ndjson)
                == .invalidJSON(message: "expected ':' after the field name", line: 2, column: 11))
        #expect(error("[1,]") == .invalidEvent(message: "an event must be a JSON object", index: 0, field: nil))
        #expect(error("[{\"service\":\"a\",\"operation\":\"b\",\"outcome\":\"hit\"},]") != nil)
    }

    @Test func ndjsonSkipsBlankLinesAndCountsIndexesByEvent() {
        #expect(
            error(
                "{\"service\":\"a\",\"operation\":\"b\",\"outcome\":\"hit\"}\n\n  \n{\"service\":\"a\",\"operation\":\"b\"}\n",
                .ndjson)
                == .invalidEvent(message: "outcome is required", index: 1, field: "outcome"))
        #expect(error("\n \n", .ndjson) != nil)
    }

    @Test func limitsEventsPerRequest() {
        let one = #"{"service":"a","operation":"b","outcome":"hit"}"#
        let body = "[" + Array(repeating: one, count: 101).joined(separator: ",") + "]"
        #expect(error(body) == .tooManyEvents(limit: 100))
        #expect((try? decode("[" + Array(repeating: one, count: 100).joined(separator: ",") + "]"))?.count == 100)
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)
        #expect(error(#"{"service":"a","operation":"b","outcome":"hit","x":\#(deep)}"#) != nil)
        #expect(error(deep) != nil)
    }

    @Test func wrapperHoldsOnlyEvents() throws {
        #expect(try decode(#"{"events":[]}"#).isEmpty)
        #expect(try decode("[]").isEmpty)
        #expect(error(#"{"events":[],"more":1}"#) != nil)
        #expect(error(#"{"events":{}}"#) != nil)
    }
}

@Suite struct DurationAndTimeTests {
    @Test func prometheusDurations() {
        #expect(PromDuration("1h30m")?.milliseconds == 5_400_000)
        #expect(PromDuration("500ms")?.milliseconds == 500)
        #expect(PromDuration("1d")?.milliseconds == 86_400_000)
        #expect(PromDuration("0")?.milliseconds == 0)
        #expect(PromDuration("30m1h") == nil)
        #expect(PromDuration("5") == nil)
        #expect(PromDuration("5x") == nil)
        #expect(PromDuration("") == nil)
        #expect(PromDuration("99999999999999999999y") == nil)
        #expect(PromDuration(milliseconds: 5_400_000).description == "1h30m")
        #expect(PromDuration(milliseconds: 60_000).description == "1m")
    }

    @Test func rfc3339RoundTrip() {
        #expect(RFC3339.format(milliseconds: 1_800_000_000_250) == "2027-01-15T08:00:00.250Z")
        #expect(RFC3339.parseMilliseconds(Array("2027-01-15T08:00:00.250Z".utf8)) == 1_800_000_000_250)
        #expect(RFC3339.parseMilliseconds(Array("2024-02-29T00:00:00Z".utf8)) != nil)
        #expect(RFC3339.parseMilliseconds(Array("2023-02-29T00:00:00Z".utf8)) == nil)
        #expect(RFC3339.parseMilliseconds(Array("2023-01-01T00:00:00".utf8)) == nil)
        #expect(RFC3339.format(milliseconds: 0, fraction: false) == "1970-01-01T00:00:00Z")
    }

    @Test func windowsAreExactToTheBucket() {
        var windows = RollingWindows()
        let now: Int64 = 1_800_000_005_000
        var delta = BatchDelta()
        for (offset, outcome) in [
            (0, Outcome.miss), (-50_000, .hit), (-60_000, .hit), (-3_590_000, .inFlight), (-3_600_000, .miss),
        ] {
            delta.merge(
                BatchDelta(
                    events: [Event(service: "a", operation: "b", outcome: outcome, timeMs: now + Int64(offset))],
                    receivedAtMs: now, bucketWidthMs: 10_000))
        }
        windows.apply(delta)
        let counts = windows.windowCounts(
            of: SeriesKey(service: "a", operation: "b"), windows: [.minutes(1), .hours(1)], nowMs: now)!
        #expect(counts[0].attempts == 2)  // buckets from now-50s
        #expect(counts[1].attempts == 4)  // the -3600s event is one bucket too old
        #expect(counts[1].duplicateRatio == 0.75)
        // The bucket holding the cutoff is kept until it is wholly older.
        windows.prune(nowMs: now + 10_000, retentionMs: 3_600_000)
        #expect(
            windows.windowCounts(of: SeriesKey(service: "a", operation: "b"), windows: [.hours(2)], nowMs: now)![0].attempts == 4)
    }

    @Test func inMemoryBucketsAreKeptOnlyForTheHorizonWhileSeriesLiveForTheRetention() {
        var windows = RollingWindows()
        let now: Int64 = 1_800_000_000_000
        let series = SeriesKey(service: "a", operation: "b")
        windows.apply(
            BatchDelta(
                events: [Event(service: "a", operation: "b", outcome: .hit, timeMs: now - 7_200_000)], receivedAtMs: now,
                bucketWidthMs: 10_000))
        windows.apply(
            BatchDelta(
                events: [Event(service: "a", operation: "b", outcome: .miss, timeMs: now)], receivedAtMs: now,
                bucketWidthMs: 10_000))
        let dropped = windows.prune(nowMs: now, retentionMs: 86_400_000, bucketHorizonMs: 3_610_000)
        #expect(dropped.isEmpty)
        #expect(windows.state(of: series)?.buckets.buckets.count == 1)
        #expect(windows.state(of: series)?.totals.attempts == 2)  // counters keep everything
    }
}
