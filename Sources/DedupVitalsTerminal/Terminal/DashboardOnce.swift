/// `top --once`: one refresh, one frame, no terminal modes, no key hints.
public enum DashboardOnce {
    /// The frame for one refresh. A non-terminal gets as many rows as the content needs (at least `size.rows`), so
    /// that nothing is cut off in a pipe or a file.
    public static func frame(
        fetcher: DashboardFetcher, size: TerminalSize, color: Bool, fitContent: Bool, utcOffsetSeconds: Int = 0
    ) async throws(ServiceClientError) -> [String] {
        var state = DashboardState(url: fetcher.client.baseURL, refreshSeconds: 0)
        state.apply(try await fetcher.fetch())
        state.showsSelection = false
        state.nowMs = fetcher.clock()
        state.utcOffsetSeconds = utcOffsetSeconds
        var size = size
        if fitContent {
            // Tall enough for every series row and every alert line.
            let alertLines = max(1, state.snapshot?.alerts?.count ?? 0)
            let rowCount = state.rows.count  // once: the rows are filtered and sorted each time they are asked for
            size.rows = max(FrameRenderer.minimumSize.rows, 6 + alertLines + max(1, rowCount))
            while FrameRenderer.visibleTableRows(state, size: size) < max(1, rowCount)
                || FrameRenderer.visibleTableRows(state, size: size) + 6 + alertLines > size.rows
            {
                size.rows += 1
            }
        }
        var lines = FrameRenderer.lines(state, size: size, color: color)
        // Trailing blanks cut from the end (reversing each of 10,000 lines took a quarter of `--once`).
        if !color { lines = lines.map { line in line.lastIndex { $0 != " " }.map { String(line[...$0]) } ?? "" } }
        // The blank padding of a full screen means nothing on paper.
        lines.removeAll { $0.allSatisfy { $0 == " " } }
        return lines
    }
}
