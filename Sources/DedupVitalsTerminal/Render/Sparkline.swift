/// Sparklines from block characters ▁▂▃▄▅▆▇█.
public enum Sparkline {
    public static let levels: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// Groups `points` (oldest first) into at most `columns` cells of equal size, aligned to the newest point, and
    /// sums each group. Fewer points than columns give one cell per point.
    public static func group(_ points: [WindowCounts], columns: Int) -> [WindowCounts] {
        guard columns > 0, !points.isEmpty else { return [] }
        let perCell = (points.count + columns - 1) / columns
        var cells: [WindowCounts] = []
        var end = points.count
        while end > 0, cells.count < columns {
            let start = max(0, end - perCell)
            cells.append(points[start..<end].reduce(WindowCounts.zero, +))
            end = start
        }
        return cells.reversed()
    }

    /// The level (0...7) of `value` on a scale from 0 to `scale`.
    public static func level(_ value: Double, scale: Double) -> Int {
        guard scale > 0, value > 0 else { return 0 }
        return min(7, max(0, Int((value / scale * 8).rounded(.up)) - 1))
    }

    /// One cell per value, right-aligned in `columns`: a level character for each value, a space where the value is
    /// nil (no data), leading spaces for missing history.
    public static func cells(_ values: [Double?], scale: Double, columns: Int) -> [Character] {
        let shown = values.suffix(columns)
        let padding = [Character](repeating: " ", count: columns - shown.count)
        return padding + shown.map { value in value.map { levels[level($0, scale: scale)] } ?? " " }
    }

    /// The duplicate ratio of each cell, right-aligned in `columns`, coloured by threshold, on a scale from 0 to the
    /// peak (at least 20 %); a dim `·` marks a step without attempts.
    public static func ratioLine(_ cells: [WindowCounts], columns: Int) -> StyledLine {
        let ratios: [Double?] = cells.suffix(columns).map { $0.attempts > 0 ? $0.duplicateRatio : nil }
        let scale = max(0.2, ratios.compactMap { $0 }.max() ?? 0)
        var line = StyledLine(String(repeating: " ", count: max(0, columns - ratios.count)))
        for ratio in ratios {
            if let ratio {
                line.append(String(levels[level(ratio, scale: scale)]), .colored(Formatting.ratioColor(ratio)))
            } else {
                line.append("·", TextStyle(color: .gray))
            }
        }
        return line
    }
}
