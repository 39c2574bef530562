import DedupVitalsCore

/// The detail view of one series: every window with each outcome, sparklines per outcome, key forensics, alerts.
enum DetailView {
    static func lines(_ series: SeriesSummary, state: DashboardState, width: Int) -> [StyledLine] {
        var lines: [StyledLine] = []
        var title: [StyledLine] = [StyledLine(series.id, .bold)]
        if let lastSeen = series.lastSeen.flatMap(Formatting.milliseconds(rfc3339:)) {
            title.append(
                StyledLine("last seen " + Formatting.clock(milliseconds: lastSeen, utcOffsetSeconds: state.utcOffsetSeconds)))
        }
        title.append(StyledLine("Esc back", .dim))
        lines.append(FrameRenderer.rule(title, width: width))
        lines += windowTable(series, state: state)
        lines.append(StyledLine())

        let history = state.snapshot?.history[series.id] ?? []
        let step = state.snapshot?.historyStep ?? "10s"
        let window = state.snapshot?.historyWindow ?? "15m"
        let sparkWidth = max(8, width - 30)
        let cells = Sparkline.group(history, columns: sparkWidth)
        let stepsPerBar = cells.isEmpty ? 1 : (history.count + cells.count - 1) / cells.count
        let perBar = stepsPerBar <= 1 ? step : "\(stepsPerBar)×\(step)"
        lines.append(FrameRenderer.rule([StyledLine("Last \(window)"), StyledLine("one bar per \(perBar)", .dim)], width: width))
        if history.isEmpty {
            lines.append(StyledLine("  no history (the service answered no /v1/series data)", .dim))
        } else {
            lines.append(ratioSparkline(cells, width: sparkWidth))
            for outcome in Outcome.allCases {
                lines.append(countSparkline(outcome.name, cells.map { $0[outcome] }, width: sparkWidth))
            }
        }
        lines.append(StyledLine())

        lines.append(FrameRenderer.rule([StyledLine("Key forensics")], width: width))
        lines += forensics(series)
        lines.append(StyledLine())

        let alerts = (state.snapshot?.alerts ?? []).filter { $0.seriesID == series.id }
        lines.append(FrameRenderer.rule([StyledLine("Alerts on \(series.id)")], width: width))
        if state.snapshot?.alerts == nil {
            lines.append(StyledLine("  alerts are not available from this service", .dim))
        } else if alerts.isEmpty {
            lines.append(StyledLine("  none", .dim))
        } else {
            lines += AlertsPane.lines(alerts, nowMs: state.nowMs)
        }
        return lines
    }

    private static let windowColumns: [(title: String, width: Int)] = [
        ("WINDOW", 7), ("ATTEMPTS", 9), ("ATT/S", 8), ("MISS", 8), ("HIT", 8), ("IN_FLIGHT", 10), ("COMPLETED", 10),
        ("MISMATCH", 9), ("DUP RATIO", 10),
    ]

    private static func windowTable(_ series: SeriesSummary, state: DashboardState) -> [StyledLine] {
        var header = StyledLine(" ")
        for (index, column) in windowColumns.enumerated() {
            header.append(column.title, .bold, columns: column.width, right: index > 0)
        }
        var lines = [header]
        let windows = state.snapshot?.summary.windows ?? []
        for (label, counts) in windows.map({ ($0, series.windows[$0] ?? .zero) }) + [("total", series.totals)] {
            let seconds = Formatting.seconds(ofWindow: label)
            let ratioStyle: TextStyle = counts.attempts == 0 ? .dim : .colored(Formatting.ratioColor(counts.duplicateRatio))
            let cells: [(String, TextStyle)] = [
                (label, .bold),
                (Formatting.count(counts.attempts), .plain),
                (seconds.map { Formatting.rate(Double(counts.attempts) / $0) } ?? "", .plain),
                (Formatting.count(counts.miss), .plain),
                (Formatting.count(counts.hit), .plain),
                (Formatting.count(counts.inFlight), counts.inFlight > 0 ? .colored(.yellow) : .plain),
                (Formatting.count(counts.completed), .plain),
                (Formatting.count(counts.mismatch), counts.mismatch > 0 ? .colored(.magenta) : .plain),
                (counts.attempts == 0 ? "·" : Formatting.percent(counts.duplicateRatio), ratioStyle),
            ]
            var line = StyledLine(" ")
            for (index, (text, style)) in cells.enumerated() {
                line.append(text, style, columns: windowColumns[index].width, right: index > 0)
            }
            lines.append(line)
        }
        return lines
    }

    private static func ratioSparkline(_ cells: [WindowCounts], width: Int) -> StyledLine {
        var line = StyledLine("  ")
        line.append("dup ratio", .bold, columns: 12)
        line.append(Sparkline.ratioLine(cells, columns: width))
        let peak = cells.filter { $0.attempts > 0 }.map(\.duplicateRatio).max() ?? 0
        line.append("  peak " + Formatting.percent(peak), .dim)
        return line
    }

    private static func countSparkline(_ name: String, _ values: [Int64], width: Int) -> StyledLine {
        let peak = values.max() ?? 0
        var line = StyledLine("  ")
        line.append(name, .plain, columns: 12)
        let characters = Sparkline.cells(values.map { Double($0) }, scale: Double(max(1, peak)), columns: width)
        line.append(String(characters), .colored(.cyan))
        line.append("  peak " + Formatting.count(peak), .dim)
        return line
    }

    private static func forensics(_ series: SeriesSummary) -> [StyledLine] {
        guard series.hasForensics else { return [StyledLine("  not reported by this service", .dim)] }
        func figures(_ items: [(String, Int64?, TextStyle.Color?)]) -> StyledLine {
            var line = StyledLine("  ")
            for (label, value, alarm) in items where value != nil {
                line.append(label + " ", .dim)
                let (text, style) = SeriesTable.forensic(value, alarm: alarm)
                line.append(text, style)
                line.append("    ")
            }
            return line
        }
        var lines = [
            figures([
                ("in-flight keys", series.inFlightKeys, nil), ("stale in-flight keys", series.staleInFlightKeys, .yellow),
                ("double executions", series.doubleExecutions, .red),
            ])
        ]
        let second = figures([
            ("late retries", series.lateRetries, .yellow), ("suspected narrow keys", series.suspectedNarrowKeys, .yellow),
        ])
        if second.width > 2 { lines.append(second) }
        if let delay = series.retryDelay, delay.p50Seconds != nil || delay.p99Seconds != nil {
            var line = StyledLine("  retry delay ", .dim)
            line.append(
                "p50 " + (delay.p50Seconds.map(Formatting.duration) ?? "-") + " · p99 "
                    + (delay.p99Seconds.map(Formatting.duration) ?? "-"))
            if let window = delay.dedupWindowSeconds { line.append("  (dedup window " + Formatting.duration(window) + ")", .dim) }
            lines.append(line)
        }
        if !series.topClients.isEmpty {
            var line = StyledLine("  top clients ", .dim)
            for client in series.topClients.prefix(3) {
                line.append(client.client + " ")
                line.append(Formatting.percent(client.duplicateRatio), .colored(Formatting.ratioColor(client.duplicateRatio)))
                line.append("   ")
            }
            lines.append(line)
        }
        return lines
    }
}
