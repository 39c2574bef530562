import DedupVitalsTerminal
import Testing

@Suite("Frame renderer")
struct FrameRendererTests {
    /// Every frame has exactly `rows` lines, none wider than `columns`.
    private func checkShape(_ lines: [String], _ size: TerminalSize) {
        #expect(lines.count == size.rows)
        for line in lines { #expect(line.count <= size.columns, "too wide: \(line)") }
    }

    private func plain(_ state: DashboardState, _ size: TerminalSize) -> [String] {
        let lines = FrameRenderer.lines(state, size: size, color: false)
        checkShape(lines, size)
        return lines
    }

    @Test("80×24: header, series table with ratios and sparklines, alerts with firing first, hints")
    func standardTerminal() {
        let lines = plain(Fixtures.typical, .standard)
        #expect(lines[0].contains("dedup-vitals") && lines[0].contains("http://127.0.0.1:9470") && lines[0].contains("updated"))
        #expect(lines[1].contains("events/s") && lines[1].contains("dup 1m") && lines[1].contains("alerts firing 1"))
        #expect(!lines[1].contains("…"), "the totals fit in 80 columns")
        let header = lines.first { $0.contains("SERIES") }!
        #expect(header.contains("ATT/S") && header.contains("DUP 1m") && header.contains("INFL") && header.contains("DUP RATIO"))
        let refund = lines.first { $0.contains("payments/refund") }!
        #expect(lines.first { $0.hasPrefix("▶ ") }?.contains("agents/tool.call") == true, "the first row (by name) is selected")
        #expect(refund.contains("42.0%"))
        #expect(refund.contains("12") && refund.contains("█"), "forensics and a sparkline that reaches its peak")
        let agents = lines.first { $0.contains("agents/tool.call") }!
        #expect(agents.contains(" - "), "forensics not reported show as -")
        let firing = lines.firstIndex { $0.contains("DuplicateAttemptSpike") }!
        let resolved = lines.firstIndex { $0.contains("StaleInFlightKeys") }!
        #expect(firing < resolved, "firing alerts come first")
        #expect(lines[firing].contains("firing") && lines[firing].contains("critical") && lines[firing].contains("12m"))
        #expect(lines[23].contains("q quit"))
        // Columns line up: every ratio of the 1m column ends at the same position as its title.
        let titleEnd = header.range(of: "DUP 1m")!.upperBound.utf16Offset(in: header)
        for row in lines where row.contains("/") && row.contains("%") && !row.contains("http") && !row.contains("events/s") {
            let cell = row.prefix(titleEnd)
            #expect(cell.hasSuffix("%"), "1m ratio aligned under its title in: \(row)")
        }
    }

    @Test("200×50: every window column and a long sparkline")
    func wideTerminal() {
        let size = TerminalSize(columns: 200, rows: 50)
        let lines = plain(Fixtures.typical, size)
        let header = lines.first { $0.contains("SERIES") }!
        for window in Fixtures.windows { #expect(header.contains("DUP \(window)")) }
        #expect(header.contains("STALE") && header.contains("DBL"))
        let refund = lines.first { $0.contains("payments/refund") }!
        let sparkCharacters = refund.filter { Sparkline.levels.contains($0) }
        #expect(sparkCharacters.count >= 40)
    }

    @Test("colour: SGR sequences with colour, none without; ratio colour follows thresholds")
    func colours() {
        let coloured = FrameRenderer.lines(Fixtures.typical, size: .standard, color: true)
        let plain = FrameRenderer.lines(Fixtures.typical, size: .standard, color: false)
        #expect(coloured.joined().contains("\u{1B}[31m42.0%"), "42% is red")
        #expect(coloured.joined().contains("\u{1B}[32m"), "low ratios are green")
        #expect(!plain.joined().contains("\u{1B}"))
        #expect(
            Formatting.ratioColor(0.01) == .green && Formatting.ratioColor(0.08) == .yellow && Formatting.ratioColor(0.3) == .red)
    }

    @Test("a very narrow terminal drops columns but keeps the name and the 1m ratio")
    func narrowTerminal() {
        let size = TerminalSize(columns: 40, rows: 12)
        let lines = plain(Fixtures.typical, size)
        let header = lines.first { $0.contains("SERIES") }!
        #expect(header.contains("DUP 1m") && !header.contains("DUP 1h") && !header.contains("STALE"))
        #expect(lines.contains { $0.contains("payments/refund") && $0.contains("42.0%") })
    }

    @Test("a terminal below the minimum gets a notice, not a broken frame")
    func tinyTerminal() {
        for size in [TerminalSize(columns: 12, rows: 4), TerminalSize(columns: 1, rows: 1), TerminalSize(columns: 0, rows: 0)] {
            let lines = plain(Fixtures.typical, size)
            if size.rows >= 1, size.columns >= 5 { #expect(lines[0].hasPrefix("term")) }
        }
    }

    @Test("no series: the table explains how to get data")
    func noSeries() {
        let lines = plain(Fixtures.state(series: []), .standard)
        #expect(lines.contains { $0.contains("no series yet") })
        #expect(lines[1].contains("events/s 0.00"))
    }

    @Test("before the first answer the frame says it is waiting; an error shows in the status line")
    func waitingAndError() {
        var state = DashboardState(url: "http://127.0.0.1:1")
        #expect(plain(state, .standard).contains { $0.contains("waiting for http://127.0.0.1:1") })
        state.applyError("cannot reach http://127.0.0.1:1/v1/summary: connection refused")
        let lines = plain(state, TerminalSize(columns: 120, rows: 24))
        #expect(lines[23].contains("⚠ cannot reach") && lines[23].contains("retrying every 2s"))
        #expect(plain(state, .standard)[23].hasPrefix(" ⚠ cannot reach http://127.0.0.1:1/v1/summary: connection refused"))
    }

    @Test("many series: the table scrolls and keeps the selection on screen")
    func manySeriesScroll() {
        var state = Fixtures.many(60)
        let size = TerminalSize.standard
        let visible = FrameRenderer.visibleTableRows(state, size: size)
        #expect(visible < 60)
        for _ in 0..<45 { _ = state.handle(.down, visibleRows: visible) }
        let lines = plain(state, size)
        let selected = lines.first { $0.hasPrefix("▶ ") }
        #expect(selected?.contains("svc-45/op") == true)
        #expect(!lines.contains { $0.contains("svc-00/op") }, "the top scrolled away")
        #expect(lines.contains { $0.contains("of 60") }, "the title says which rows are shown")
        for _ in 0..<40 { _ = state.handle(.up, visibleRows: visible) }
        let back = plain(state, size)
        #expect(back.first { $0.hasPrefix("▶ ") }?.contains("svc-05/op") == true)
        _ = state.handle(.end, visibleRows: visible)
        #expect(plain(state, size).first { $0.hasPrefix("▶ ") }?.contains("svc-59/op") == true)
    }

    @Test("detail view: every window, each outcome with a sparkline, forensics, the series' alerts")
    func detailView() {
        var state = Fixtures.typical
        state.selectedID = "payments/refund"
        _ = state.handle(.enter)
        let lines = plain(state, TerminalSize(columns: 100, rows: 40))
        let text = lines.joined(separator: "\n")
        #expect(text.contains("payments/refund") && text.contains("Esc back"))
        for window in Fixtures.windows + ["total"] { #expect(lines.contains { $0.hasPrefix(" \(window) ") }) }
        for outcome in ["miss", "hit", "in_flight", "completed", "mismatch", "dup ratio"] {
            #expect(lines.contains { $0.hasPrefix("  \(outcome)") && $0.contains("peak") }, "sparkline for \(outcome)")
        }
        #expect(
            text.contains("in-flight keys 12") && text.contains("stale in-flight keys 3") && text.contains("double executions 1"))
        #expect(text.contains("DuplicateAttemptSpike"))
        #expect(!text.contains("StaleInFlightKeys"), "only this series' alerts")
        let narrow = plain(state, .standard)
        #expect(narrow.contains { $0.hasPrefix(" 1m ") && $0.hasSuffix("%") }, "the window table fits 80 columns")
        _ = plain(state, .standard)
    }

    @Test("detail view: the service's further forensics (late retries, narrow keys, retry delay, top clients)")
    func detailForensics() {
        var state = Fixtures.typical
        var snapshot = state.snapshot!
        let index = snapshot.summary.series.firstIndex { $0.id == "payments/refund" }!
        snapshot.summary.series[index].lateRetries = 2
        snapshot.summary.series[index].suspectedNarrowKeys = 5
        snapshot.summary.series[index].retryDelay = .init(p50Seconds: 0.25, p99Seconds: 4.2, dedupWindowSeconds: 86_400)
        snapshot.summary.series[index].topClients = [
            .init(client: "mobile-ios", attempts: 100, duplicates: 37, duplicateRatio: 0.37)
        ]
        state.apply(snapshot)
        state.selectedID = "payments/refund"
        _ = state.handle(.enter)
        let text = plain(state, TerminalSize(columns: 100, rows: 40)).joined(separator: "\n")
        #expect(text.contains("late retries 2") && text.contains("suspected narrow keys 5"))
        #expect(text.contains("retry delay p50 250ms · p99 4.2s  (dedup window 1d)"))
        #expect(text.contains("top clients mobile-ios 37.0%"))
    }

    @Test("ages and durations")
    func ages() {
        #expect(Formatting.age(milliseconds: 42_000) == "42s")
        #expect(Formatting.age(milliseconds: 720_000) == "12m")
        #expect(Formatting.age(milliseconds: 11_100_000) == "3h05m")
        #expect(Formatting.age(milliseconds: 10_800_000) == "3h")
        #expect(Formatting.age(milliseconds: 187_200_000) == "2d04h")
        #expect(Formatting.duration(0.12) == "120ms" && Formatting.duration(4.25) == "4.3s")
        #expect(Formatting.percent(0.042) == "4.2%" && Formatting.percent(1) == "100%")
        #expect(Formatting.rate(3.256) == "3.26" && Formatting.rate(123.44) == "123.4" && Formatting.rate(123_456) == "123.5k")
    }

    @Test("help lists every key")
    func help() {
        var state = Fixtures.typical
        _ = state.handle(.character("?"))
        let text = plain(state, .standard).joined(separator: "\n")
        for key in ["q  Esc", "j k", "Enter", "s ", "/ ", "r ", "?"] { #expect(text.contains(key)) }
    }

    @Test("alerts unavailable: the pane says so and the header shows n/a")
    func alertsUnavailable() {
        let lines = plain(Fixtures.state(series: [Fixtures.series("a", "b", ratio: 0.1)], alerts: nil), .standard)
        #expect(lines[1].contains("alerts firing n/a"))
        #expect(lines.contains { $0.contains("not available from this service") })
    }
}

@Suite("Rates")
struct RateTests {
    @Test("rates come from the last minute of complete steps, leaving out the partial step and steps before the first events")
    func historyRate() {
        var state = Fixtures.state(series: [Fixtures.series("a", "b", ratio: 0.1, rate: 1)])
        var snapshot = state.snapshot!
        snapshot.history["a/b"] =
            Array(repeating: .zero, count: 80)
            + [
                WindowCounts(miss: 10, completed: 5), WindowCounts(miss: 200, completed: 100), WindowCounts(miss: 100, hit: 100),
                WindowCounts(miss: 7),
            ]
        state.apply(snapshot)
        #expect(state.perSecond("a/b", \.attempts) == 20)
        #expect(state.eventsPerSecond == 25)
        let lines = FrameRenderer.lines(state, size: .standard, color: false)
        #expect(lines[1].contains("events/s 25.0"))
        #expect(lines.contains { $0.hasPrefix("▶ a/b") && $0.contains(" 20.0 ") })
    }

    @Test("without a complete step the shortest window's average is used")
    func windowRate() {
        var state = Fixtures.state(series: [Fixtures.series("a", "b", ratio: 0.1, rate: 3)])
        var snapshot = state.snapshot!
        snapshot.history["a/b"] = [WindowCounts(miss: 7)]
        state.apply(snapshot)
        #expect(state.perSecond("a/b", \.attempts) == 3)
        #expect(state.perSecond("nope/x", \.attempts) == nil)
    }
}
