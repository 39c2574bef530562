/// The series table: which columns fit a width, and one line per series.
struct SeriesTable {
    enum Kind: Equatable {
        case name, rate
        case ratio(String)
        case inFlight, stale, doubles, sparkline
    }

    struct Column {
        var kind: Kind
        var title: String
        var width: Int
        var right: Bool
        /// Columns with a higher number are dropped first when the width is short; 0 is never dropped.
        var dropOrder: Int
    }

    static let markerWidth = 2
    static let nameRange = 16...32
    static let sparklineRange = 16...60

    let state: DashboardState
    let columns: [Column]

    init(state: DashboardState, width: Int) {
        self.state = state
        let windows = state.snapshot?.summary.windows ?? []
        var all: [Column] = [
            Column(kind: .name, title: "SERIES", width: Self.nameRange.lowerBound, right: false, dropOrder: 0),
            Column(kind: .rate, title: "ATT/S", width: 7, right: true, dropOrder: 1),
        ]
        for (index, window) in windows.enumerated() {
            let drop = index == 0 ? 0 : index == 1 ? 2 : 4 + index
            all.append(Column(kind: .ratio(window), title: "DUP " + window, width: 7, right: true, dropOrder: drop))
        }
        all += [
            Column(kind: .inFlight, title: "INFL", width: 5, right: true, dropOrder: 4),
            Column(kind: .stale, title: "STALE", width: 5, right: true, dropOrder: 4),
            Column(kind: .doubles, title: "DBL", width: 4, right: true, dropOrder: 4),
            Column(
                kind: .sparkline, title: "DUP RATIO " + (state.snapshot?.historyWindow ?? "15m"),
                width: Self.sparklineRange.lowerBound, right: false, dropOrder: 3),
        ]
        func total(_ columns: [Column]) -> Int { Self.markerWidth + columns.reduce(0) { $0 + $1.width } + columns.count - 1 }
        while total(all) > width, let drop = all.map(\.dropOrder).max(), drop > 0 {
            all.removeAll { $0.dropOrder == drop }
        }
        var spare = max(0, width - total(all))
        for kind in [Kind.name, .sparkline] {
            guard let index = all.firstIndex(where: { $0.kind == kind }) else { continue }
            let range = kind == .name ? Self.nameRange : Self.sparklineRange
            let grow = min(spare, range.upperBound - all[index].width)
            all[index].width += grow
            spare -= grow
        }
        columns = all
    }

    var header: StyledLine {
        var line = StyledLine(String(repeating: " ", count: Self.markerWidth))
        for (index, column) in columns.enumerated() {
            if index > 0 { line.append(" ") }
            line.append(column.title, .bold, columns: column.width, right: column.right)
        }
        return line
    }

    func line(for series: SeriesSummary, selected: Bool) -> StyledLine {
        var line = StyledLine(selected && state.showsSelection ? "▶ " : "  ", .colored(.cyan, bold: true))
        for (index, column) in columns.enumerated() {
            if index > 0 { line.append(" ") }
            switch column.kind {
            case .sparkline: line.append(sparkline(for: series, columns: column.width))
            default:
                let (text, style) = cell(column.kind, series)
                line.append(text, style, columns: column.width, right: column.right)
            }
        }
        return selected && state.showsSelection ? line.highlighted() : line
    }

    private func cell(_ kind: Kind, _ series: SeriesSummary) -> (String, TextStyle) {
        switch kind {
        case .name:
            return (series.id, .plain)
        case .rate:
            guard let rate = state.perSecond(of: series, \.attempts) else { return ("-", .dim) }
            return (Formatting.rate(rate), rate == 0 ? .dim : .plain)
        case .ratio(let window):
            guard let counts = series.windows[window], counts.attempts > 0 else { return ("·", .dim) }
            return (Formatting.percent(counts.duplicateRatio), .colored(Formatting.ratioColor(counts.duplicateRatio)))
        case .inFlight:
            return Self.forensic(series.inFlightKeys, alarm: nil)
        case .stale:
            return Self.forensic(series.staleInFlightKeys, alarm: .yellow)
        case .doubles:
            return Self.forensic(series.doubleExecutions, alarm: .red)
        case .sparkline:
            return ("", .plain)
        }
    }

    /// A key-forensics figure: `-` when the service does not report it, coloured when above zero.
    static func forensic(_ value: Int64?, alarm: TextStyle.Color?) -> (String, TextStyle) {
        guard let value else { return ("-", .dim) }
        if value == 0 { return ("0", .dim) }
        return (Formatting.count(value), alarm.map { .colored($0, bold: true) } ?? .plain)
    }

    /// The duplicate ratio over the history, one cell per group of points.
    func sparkline(for series: SeriesSummary, columns: Int) -> StyledLine {
        Sparkline.ratioLine(Sparkline.group(state.snapshot?.history[series.id] ?? [], columns: columns), columns: columns)
    }
}
