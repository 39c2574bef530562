/// Everything the dashboard shows: the last data read from the service plus the viewer's choices. A value type that
/// changes only through ``handle(_:)`` (keys), ``apply(_:)`` (new data) and ``applyError(_:)``; the frame renderer
/// draws it as a pure function.
public struct DashboardState: Sendable, Equatable {
    public enum Screen: Sendable, Equatable {
        case table
        /// The detail view of one series, by id.
        case detail(String)
    }

    /// What the program should do after a key.
    public enum Action: Sendable, Equatable {
        case none, quit, refresh
    }

    public var url: String
    public var refreshSeconds: Double
    public var snapshot: DashboardSnapshot? {
        didSet { updateRows() }
    }
    /// The last refresh error, shown in the status line until a refresh succeeds.
    public var error: String?
    public var screen: Screen = .table
    /// The selected series id; nil selects the first row.
    public var selectedID: String?
    /// The first table row on screen.
    public var scrollOffset = 0
    public var sort: SortColumn = .name {
        didSet { if sort != oldValue { updateRows() } }
    }
    public var filter = "" {
        didSet { if filter != oldValue { updateRows() } }
    }
    public var isEditingFilter = false
    public var showsHelp = false
    /// Whether a selection marker is drawn (off for `--once`).
    public var showsSelection = true
    /// The time the frame is drawn at (ms since the Unix epoch), for ages.
    public var nowMs: Int64 = 0
    /// The viewer's offset from UTC in seconds, for clock times.
    public var utcOffsetSeconds = 0

    public init(url: String, refreshSeconds: Double = 2) {
        self.url = url
        self.refreshSeconds = refreshSeconds
    }

    // MARK: - Data

    public mutating func apply(_ snapshot: DashboardSnapshot) {
        self.snapshot = snapshot
        error = nil
        if case .detail(let id) = screen, !(snapshot.summary.series.contains { $0.id == id }) { screen = .table }
    }

    public mutating func applyError(_ message: String) {
        error = message
    }

    /// The shortest window: the one rates and the default ratio come from.
    public var primaryWindow: String? { snapshot?.summary.windows.first }

    /// The series on the table: filtered by the text filter (case-insensitive, on `service/operation`), sorted.
    /// Kept up to date when the data, the sort or the filter change, so that a key (which redraws) does not filter
    /// and sort every series again: at 10,000 series that is what a key press would wait for.
    public private(set) var rows: [SeriesSummary] = []

    private mutating func updateRows() {
        rows = sortedRows()
    }

    private func sortedRows() -> [SeriesSummary] {
        guard let series = snapshot?.summary.series else { return [] }
        let needle = filter.lowercased()
        // Each series' figure once, not once per comparison (a rate reads the series' history).
        return
            series
            .filter { needle.isEmpty || $0.id.lowercased().contains(needle) }
            .map { (series: $0, figure: sort.figure($0, self)) }
            .sorted { SortColumn.orders($0.series, $0.figure, before: $1.series, $1.figure) }
            .map(\.series)
    }

    /// The row index of the selection within ``rows``, nil when the table is empty.
    public var selectedIndex: Int? { selectedIndex(in: rows) }

    /// ``selectedIndex`` within rows already computed (``rows`` filters and sorts every time).
    public func selectedIndex(in rows: [SeriesSummary]) -> Int? {
        guard !rows.isEmpty else { return nil }
        return selectedID.flatMap { id in rows.firstIndex { $0.id == id } } ?? 0
    }

    public var selectedSeries: SeriesSummary? {
        let rows = rows
        return selectedIndex(in: rows).map { rows[$0] }
    }

    /// The current rate of one series: `figure` per second over the last minute of complete history steps (steps
    /// up to and including the one with the series' first events left out), or over the shortest window when the
    /// history has no complete step.
    public func perSecond(_ id: String, _ figure: KeyPath<WindowCounts, Int64>) -> Double? {
        guard let series = snapshot?.summary.series.first(where: { $0.id == id }) else { return nil }
        return perSecond(of: series, figure)
    }

    /// ``perSecond(_:_:)`` of a series at hand: what the table, the sort and the totals use for every series of a
    /// refresh, so that a frame costs one pass over the series, not one search per series (10,000 series: 14 s).
    public func perSecond(of series: SeriesSummary, _ figure: KeyPath<WindowCounts, Int64>) -> Double? {
        guard let snapshot else { return nil }
        if let history = snapshot.history[series.id], let step = Formatting.seconds(ofWindow: snapshot.historyStep) {
            let complete = history.dropLast().suffix(max(1, Int(60 / step)))
            var active = complete.drop { $0.total == 0 }
            // The first active step is usually partial (the series started inside it): leave it out when there are others.
            if active.count > 1 { active = active.dropFirst() }
            if !active.isEmpty {
                return Double(active.reduce(0) { $0 + $1[keyPath: figure] }) / (Double(active.count) * step)
            }
        }
        guard let window = primaryWindow, let seconds = Formatting.seconds(ofWindow: window) else { return nil }
        return Double((series.windows[window] ?? .zero)[keyPath: figure]) / seconds
    }

    /// Every series' events (all outcomes) per second, added up.
    public var eventsPerSecond: Double? {
        guard let series = snapshot?.summary.series else { return nil }
        return series.reduce(0) { $0 + (perSecond(of: $1, \.total) ?? 0) }
    }

    // MARK: - Keys

    /// Applies one key; `visibleRows` is how many table rows fit on screen (for paging and scrolling).
    public mutating func handle(_ key: Key, visibleRows: Int = 10) -> Action {
        if key == .interrupt { return .quit }
        if showsHelp {
            showsHelp = false
            return key == .character("q") ? .quit : .none
        }
        if isEditingFilter { return editFilter(key, visibleRows: visibleRows) }
        switch key {
        case .character("q"): return .quit
        case .character("?"): showsHelp = true
        case .character("r"): return .refresh
        case .up, .character("k"): moveSelection(by: -1, visibleRows: visibleRows)
        case .down, .character("j"): moveSelection(by: 1, visibleRows: visibleRows)
        case .pageUp: moveSelection(by: -max(1, visibleRows - 1), visibleRows: visibleRows)
        case .pageDown, .character(" "): moveSelection(by: max(1, visibleRows - 1), visibleRows: visibleRows)
        case .home, .character("g"): moveSelection(by: -Int(Int32.max), visibleRows: visibleRows)
        case .end, .character("G"): moveSelection(by: Int(Int32.max), visibleRows: visibleRows)
        default: return handleScreenKey(key, visibleRows: visibleRows)
        }
        return .none
    }

    private mutating func handleScreenKey(_ key: Key, visibleRows: Int) -> Action {
        switch screen {
        case .table:
            switch key {
            case .escape: return .quit
            case .enter, .right, .character("l"):
                if let series = selectedSeries { screen = .detail(series.id) }
            case .character("s"):
                selectedID = selectedSeries?.id  // the selection stays on its series, not on its row
                sort = sort.next
            case .character("/"): isEditingFilter = true
            default: break
            }
        case .detail:
            switch key {
            case .escape, .backspace, .left, .character("h"): screen = .table
            default: break
            }
        }
        return .none
    }

    private mutating func editFilter(_ key: Key, visibleRows: Int) -> Action {
        switch key {
        case .enter: isEditingFilter = false
        case .escape:
            isEditingFilter = false
            filter = ""
        case .backspace: if !filter.isEmpty { filter.removeLast() }
        case .up: moveSelection(by: -1, visibleRows: visibleRows)
        case .down: moveSelection(by: 1, visibleRows: visibleRows)
        case .character(let character): filter.append(character)
        default: break
        }
        return .none
    }

    /// Moves the selection (clamped to the table) and scrolls so that it stays on screen. In the detail view the
    /// detail follows the selection.
    public mutating func moveSelection(by delta: Int, visibleRows: Int) {
        let rows = rows
        guard let current = selectedIndex(in: rows) else { return }
        let target = min(rows.count - 1, max(0, current + delta))
        selectedID = rows[target].id
        if case .detail = screen { screen = .detail(rows[target].id) }
        scrollOffset = ScrollWindow.offset(current: scrollOffset, selected: target, visible: visibleRows, count: rows.count)
    }
}

/// Which rows of a long table are on screen.
public enum ScrollWindow {
    /// The first visible row: the current offset, moved as little as possible to keep `selected` visible, and never
    /// past the end of the table.
    public static func offset(current: Int, selected: Int, visible: Int, count: Int) -> Int {
        let visible = max(1, visible)
        var offset = min(current, selected)
        offset = max(offset, selected - visible + 1)
        return max(0, min(offset, count - visible))
    }
}
