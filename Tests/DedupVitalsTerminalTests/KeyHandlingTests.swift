import DedupVitalsTerminal
import Testing

@Suite("Keys")
struct KeyHandlingTests {
    @Test("terminal bytes decode to keys: arrows, paging, Enter, lone Esc, Ctrl-C, UTF-8")
    func decoding() {
        #expect(Key.decode(Array("\u{1B}[A\u{1B}[B\u{1B}OC\u{1B}[D".utf8)) == [.up, .down, .right, .left])
        #expect(Key.decode(Array("\u{1B}[5~\u{1B}[6~\u{1B}[H\u{1B}[4~".utf8)) == [.pageUp, .pageDown, .home, .end])
        #expect(Key.decode([0x1B]) == [.escape])
        #expect(Key.decode([0x0D, 0x7F, 0x03, 0x09]) == [.enter, .backspace, .interrupt, .tab])
        #expect(Key.decode(Array("jé/".utf8)) == [.character("j"), .character("é"), .character("/")])
        #expect(Key.decode(Array("\u{1B}[1;5A".utf8)) == [.up], "modifiers are ignored")
        #expect(Key.decode([0x1B, UInt8(ascii: "[")]) == [.unknown], "a cut-off sequence is not a key")
    }

    @Test("q, Esc and Ctrl-C quit from the table; Esc only goes back from the detail view")
    func quitting() {
        var state = Fixtures.typical
        #expect(state.handle(.character("q")) == .quit)
        #expect(state.handle(.escape) == .quit)
        #expect(state.handle(.interrupt) == .quit)
        #expect(state.handle(.enter) == .none)
        #expect(state.screen == .detail("agents/tool.call"))
        #expect(state.handle(.escape) == .none)
        #expect(state.screen == .table)
        _ = state.handle(.enter)
        #expect(state.handle(.character("q")) == .quit)
    }

    @Test("↑/↓ and j/k move the selection within the table; the detail view follows it")
    func selection() {
        var state = Fixtures.typical
        #expect(state.selectedSeries?.id == "agents/tool.call")
        _ = state.handle(.character("j"))
        #expect(state.selectedSeries?.id == "payments/capture")
        _ = state.handle(.down)
        _ = state.handle(.down)
        _ = state.handle(.down)
        #expect(state.selectedSeries?.id == "tickets/create_ticket", "clamped at the last row")
        _ = state.handle(.character("k"))
        _ = state.handle(.enter)
        #expect(state.screen == .detail("payments/refund"))
        _ = state.handle(.up)
        #expect(state.screen == .detail("payments/capture"))
    }

    @Test("s cycles the sort column; figures sort worst first and the selection stays on its series")
    func sorting() {
        var state = Fixtures.typical
        #expect(state.rows.map(\.id) == ["agents/tool.call", "payments/capture", "payments/refund", "tickets/create_ticket"])
        _ = state.handle(.down)
        let selected = state.selectedSeries?.id
        _ = state.handle(.character("s"))
        #expect(state.sort == .rate)
        #expect(state.rows.first?.id == "payments/refund")
        _ = state.handle(.character("s"))
        #expect(state.sort == .duplicateRatio)
        #expect(state.rows.map(\.id) == ["payments/refund", "tickets/create_ticket", "payments/capture", "agents/tool.call"])
        #expect(state.selectedSeries?.id == selected)
        var untouched = Fixtures.typical
        _ = untouched.handle(.character("s"))
        #expect(untouched.selectedSeries?.id == "agents/tool.call", "an untouched selection stays on its series too")
        for _ in 0..<4 { _ = state.handle(.character("s")) }
        #expect(state.sort == .name, "the cycle wraps around")
    }

    @Test("/ filters by text: typed characters narrow the table, Backspace widens, Enter keeps, Esc clears")
    func filtering() {
        var state = Fixtures.typical
        _ = state.handle(.character("/"))
        #expect(state.isEditingFilter)
        for character in "pay" { _ = state.handle(.character(character)) }
        #expect(state.rows.map(\.id) == ["payments/capture", "payments/refund"])
        #expect(state.handle(.character("q")) == .none, "q is text while typing a filter")
        #expect(state.rows.isEmpty)
        _ = state.handle(.backspace)
        _ = state.handle(.enter)
        #expect(!state.isEditingFilter && state.filter == "pay")
        let frame = FrameRenderer.lines(state, size: .standard, color: false)
        #expect(frame.contains { $0.contains("filter \"pay\"") })
        #expect(!frame.contains { $0.contains("agents/tool.call") })
        _ = state.handle(.character("/"))
        _ = state.handle(.escape)
        #expect(state.filter.isEmpty && state.rows.count == 4)
    }

    @Test("r asks for a refresh; ? opens help and any key closes it")
    func refreshAndHelp() {
        var state = Fixtures.typical
        #expect(state.handle(.character("r")) == .refresh)
        _ = state.handle(.character("?"))
        #expect(state.showsHelp)
        #expect(state.handle(.escape) == .none)
        #expect(!state.showsHelp)
    }

    @Test("a refresh that drops the series in the detail view goes back to the table")
    func vanishedSeries() {
        var state = Fixtures.typical
        _ = state.handle(.enter)
        var snapshot = state.snapshot!
        snapshot.summary.series.removeAll { $0.id == "agents/tool.call" }
        state.apply(snapshot)
        #expect(state.screen == .table)
    }

    @Test("scroll window: moves as little as possible and never past the end")
    func scrollWindow() {
        #expect(ScrollWindow.offset(current: 0, selected: 5, visible: 10, count: 50) == 0)
        #expect(ScrollWindow.offset(current: 0, selected: 12, visible: 10, count: 50) == 3)
        #expect(ScrollWindow.offset(current: 20, selected: 12, visible: 10, count: 50) == 12)
        #expect(ScrollWindow.offset(current: 45, selected: 49, visible: 10, count: 50) == 40)
        #expect(ScrollWindow.offset(current: 3, selected: 2, visible: 10, count: 5) == 0)
    }
}
