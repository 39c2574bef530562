/// Alert lines: firing first, with state, severity, age, name, series and summary.
enum AlertsPane {
    /// One line per alert, in dashboard order.
    static func lines(_ alerts: [AlertItem], nowMs: Int64) -> [StyledLine] {
        alerts.sorted(by: AlertItem.dashboardOrder).map { line($0, nowMs: nowMs) }
    }

    static func line(_ alert: AlertItem, nowMs: Int64) -> StyledLine {
        let stateStyle: TextStyle =
            alert.isFiring ? .colored(.red, bold: true) : alert.state == "pending" ? .colored(.yellow) : .dim
        var line = StyledLine(" ")
        line.append(alert.isFiring ? "●" : "○", stateStyle)
        line.append(" ")
        line.append(alert.state, stateStyle, columns: 9)
        line.append(alert.severity, severityStyle(alert.severity), columns: 9)
        let age = alert.startsAtMs.map { Formatting.age(milliseconds: nowMs - $0) } ?? "-"
        line.append(age, .plain, columns: 7, right: true)
        line.append("  ")
        line.append(alert.name, .bold, columns: 24)
        line.append(" ")
        line.append(alert.seriesID ?? "", .plain, columns: 24)
        line.append(" ")
        line.append(alert.summary, .dim)
        return line
    }

    static func severityStyle(_ severity: String) -> TextStyle {
        switch severity {
        case "critical", "page": .colored(.red, bold: true)
        case "warning": .colored(.yellow)
        default: .plain
        }
    }
}
