import DedupVitalsCore

/// Draws the dashboard: a pure function from state and terminal size to exactly `size.rows` lines, each at most
/// `size.columns` wide.
///
/// Layout, top to bottom: title bar, totals, the series table (or the detail view, or help), the alerts pane, and a
/// status line (errors, the filter being typed, or key hints).
public enum FrameRenderer {
    /// Below this size only a "terminal too small" notice is drawn.
    public static let minimumSize = TerminalSize(columns: 20, rows: 6)

    /// The frame as text lines, with SGR colour sequences when `color`.
    public static func lines(_ state: DashboardState, size: TerminalSize, color: Bool) -> [String] {
        render(state, size: size).map { $0.rendered(color: color) }
    }

    /// The frame as styled lines.
    public static func render(_ state: DashboardState, size: TerminalSize) -> [StyledLine] {
        let width = max(0, size.columns)
        let height = max(0, size.rows)
        guard width >= minimumSize.columns, height >= minimumSize.rows else {
            let notice = [StyledLine("terminal too small"), StyledLine("need \(minimumSize.columns)×\(minimumSize.rows)")]
            return (0..<height).map { $0 < notice.count ? notice[$0].truncated(to: width) : StyledLine() }
        }
        var lines = [titleBar(state, width: width), totals(state)]
        let bodyHeight = height - lines.count - 1
        lines += body(state, width: width, height: bodyHeight)
        lines.append(statusLine(state, width: width))
        return lines.map { $0.truncated(to: width) }
    }

    /// How many table rows fit on screen: what paging and scrolling use.
    public static func visibleTableRows(_ state: DashboardState, size: TerminalSize) -> Int {
        max(1, size.rows - 5 - 1 - alertLineCount(state, rows: size.rows))
    }

    // MARK: - Parts

    private static func titleBar(_ state: DashboardState, width: Int) -> StyledLine {
        var line = StyledLine(" dedup-vitals ", TextStyle(bold: true, reverse: true))
        var rest = StyledLine(" " + state.url + "  ", TextStyle(reverse: true))
        if let snapshot = state.snapshot {
            rest.append(
                "updated " + Formatting.clock(milliseconds: snapshot.fetchedAtMs, utcOffsetSeconds: state.utcOffsetSeconds),
                TextStyle(reverse: true))
        } else {
            rest.append("connecting…", TextStyle(reverse: true))
        }
        if state.refreshSeconds > 0 {
            rest.append("  every " + Formatting.seconds(state.refreshSeconds), TextStyle(dim: true, reverse: true))
        }
        line.append(rest)
        return line.fitted(to: width).highlighted()
    }

    private static func totals(_ state: DashboardState) -> StyledLine {
        var line = StyledLine(" ")
        guard let summary = state.snapshot?.summary else { return line }
        line.append("events/s ", .dim)
        line.append(state.eventsPerSecond.map(Formatting.rate) ?? "-", .bold)
        line.append("   dup", .dim)
        for window in summary.windows {
            line.append(" " + window + " ", .dim)
            let counts = summary.overall[window] ?? .zero
            if counts.attempts == 0 {
                line.append("·", .dim)
            } else {
                line.append(
                    Formatting.percent(counts.duplicateRatio), .colored(Formatting.ratioColor(counts.duplicateRatio), bold: true))
            }
        }
        line.append("   alerts firing ", .dim)
        if let alerts = state.snapshot?.alerts {
            let firing = alerts.filter(\.isFiring).count
            line.append(String(firing), firing > 0 ? .colored(.red, bold: true) : .colored(.green, bold: true))
        } else {
            line.append("n/a", .dim)
        }
        return line
    }

    private static func body(_ state: DashboardState, width: Int, height: Int) -> [StyledLine] {
        var lines: [StyledLine]
        if state.showsHelp {
            lines = help(width: width)
        } else if state.snapshot == nil {
            lines = [rule([StyledLine("Series")], width: width), StyledLine()]
            lines.append(
                StyledLine(
                    state.error == nil ? "  waiting for \(state.url) …" : "  no data yet: \(state.url) did not answer", .dim))
        } else if case .detail(let id) = state.screen, let series = state.snapshot?.summary.series.first(where: { $0.id == id }) {
            lines = DetailView.lines(series, state: state, width: width)
        } else {
            let alertLines = alertLineCount(state, rows: height + 3)
            lines = table(state, width: width, rows: max(1, height - 2 - 1 - alertLines))
            lines += alertsPane(state, width: width, count: alertLines)
        }
        if lines.count > height { lines = Array(lines.prefix(height)) }
        return lines + Array(repeating: StyledLine(), count: max(0, height - lines.count))
    }

    private static func table(_ state: DashboardState, width: Int, rows visible: Int) -> [StyledLine] {
        let rows = state.rows
        let selected = state.selectedIndex(in: rows)
        let offset = ScrollWindow.offset(
            current: state.scrollOffset, selected: selected ?? 0, visible: visible, count: rows.count)
        var title = [StyledLine("Series ", .bold)]
        title[0].append(String(rows.count), .bold)
        title.append(StyledLine("sort " + state.sort.label + (state.sort == .name ? " ▲" : " ▼")))
        if !state.filter.isEmpty || state.isEditingFilter {
            title.append(StyledLine("filter \"\(state.filter)\"", .colored(.cyan)))
        }
        if rows.count > visible {
            title.append(StyledLine("\(offset + 1)–\(min(rows.count, offset + visible)) of \(rows.count)", .dim))
        }
        let table = SeriesTable(state: state, width: width)
        var lines = [rule(title, width: width), table.header]
        if rows.isEmpty {
            let total = state.snapshot?.summary.series.count ?? 0
            lines.append(
                StyledLine(
                    total == 0
                        ? "  no series yet: send events to POST /v1/events, or run `dedup-vitals simulate`"
                        : "  no series matches \"\(state.filter)\"", .dim))
        }
        for index in rows.indices.dropFirst(offset).prefix(visible) {
            lines.append(table.line(for: rows[index], selected: index == selected))
        }
        return lines + Array(repeating: StyledLine(), count: max(0, visible + 2 - lines.count))
    }

    /// Lines the alerts pane lists below its rule: at least one, at most a quarter of the screen.
    private static func alertLineCount(_ state: DashboardState, rows: Int) -> Int {
        let count = state.snapshot?.alerts?.count ?? 0
        return min(max(1, count), max(1, (rows - 8) / 4))
    }

    private static func alertsPane(_ state: DashboardState, width: Int, count: Int) -> [StyledLine] {
        guard let alerts = state.snapshot?.alerts else {
            return [rule([StyledLine("Alerts")], width: width), StyledLine("  not available from this service", .dim)]
        }
        let firing = alerts.filter(\.isFiring).count
        var title = StyledLine("Alerts ", .bold)
        title.append("\(firing) firing", firing > 0 ? .colored(.red, bold: true) : .bold)
        let lines = [rule([title, StyledLine("\(alerts.count) total", .dim)], width: width)]
        guard !alerts.isEmpty else { return lines + [StyledLine("  none", .dim)] }
        var entries = AlertsPane.lines(alerts, nowMs: state.nowMs)
        if entries.count > count {
            entries = Array(entries.prefix(count - 1)) + [StyledLine("  … \(entries.count - count + 1) more", .dim)]
        }
        return lines + entries
    }

    private static func statusLine(_ state: DashboardState, width: Int) -> StyledLine {
        if state.isEditingFilter {
            var line = StyledLine(" filter: ", .colored(.cyan, bold: true))
            line.append(state.filter + "▏")
            line.append("   Enter keep · Esc clear", .dim)
            return line
        }
        if let error = state.error {
            var line = StyledLine(" ⚠ " + error, .colored(.red, bold: true))
            line.append(" · retrying every " + Formatting.seconds(state.refreshSeconds), .dim)
            return line
        }
        guard state.showsSelection else { return StyledLine() }
        let hints: String =
            switch state.screen {
            case .table: " ↑↓/jk select · Enter details · s sort · / filter · r refresh · ? help · q quit"
            case .detail: " ↑↓/jk next series · Esc back · r refresh · ? help · q quit"
            }
        return StyledLine(hints, .dim)
    }

    private static func help(width: Int) -> [StyledLine] {
        let keys: [(String, String)] = [
            ("q  Esc", "quit (Esc goes back from the detail view)"),
            ("↑ ↓  j k", "select a series"),
            ("PgUp PgDn  g G", "page, first, last"),
            ("Enter", "details: windows, outcomes, sparklines, forensics"),
            ("s", "sort by name, attempts/s, dup ratio, keys, doubles"),
            ("/", "filter by text (Enter keeps it, Esc clears it)"),
            ("r", "refresh now"),
            ("?", "this help (any key closes it)"),
        ]
        var lines = [rule([StyledLine("Help")], width: width), StyledLine()]
        for (key, meaning) in keys {
            var line = StyledLine("  ")
            line.append(key, .colored(.cyan, bold: true), columns: 16)
            line.append(meaning)
            lines.append(line)
        }
        lines.append(StyledLine())
        var legend = StyledLine("  duplicate ratio: ")
        legend.append("green < \(Formatting.percent(Formatting.warningRatio))", .colored(.green))
        legend.append(" · ")
        legend.append("yellow < \(Formatting.percent(Formatting.criticalRatio))", .colored(.yellow))
        legend.append(" · ")
        legend.append("red above", .colored(.red))
        lines.append(legend)
        lines.append(StyledLine("  INFL in-flight keys · STALE stale keys · DBL double executions", .dim))
        lines.append(StyledLine("  - the service does not report it · · no attempts in the window", .dim))
        return lines
    }

    /// A horizontal rule with titles: `─ Title ─ more ─────────`.
    static func rule(_ titles: [StyledLine], width: Int) -> StyledLine {
        let ruleStyle = TextStyle(color: .gray)
        var line = StyledLine("─ ", ruleStyle)
        for (index, title) in titles.enumerated() {
            if index > 0 { line.append(" ─ ", ruleStyle) }
            line.append(title)
        }
        line.append(" ")
        line.append(String(repeating: "─", count: max(0, width - line.width)), ruleStyle)
        return line
    }
}
