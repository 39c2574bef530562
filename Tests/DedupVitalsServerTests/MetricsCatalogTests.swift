import DedupVitalsCore
import Foundation
import Testing

@testable import DedupVitalsServer

/// The metrics catalog is the one list of families: the README's metrics table, `exported-metrics.txt`, the
/// dashboards and what `/metrics` writes must all agree with it.
@Suite struct MetricsCatalogTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func read(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    @Test func namesAreUniqueAndFollowPrometheusConventions() {
        let names = MetricsCatalog.all.map(\.name)
        #expect(Set(names).count == names.count)
        for family in MetricsCatalog.all {
            // The service's own families, and the standard `process_*` ones every Prometheus exporter has.
            #expect(family.name.hasPrefix("dedup_") || family.name.hasPrefix("process_"), "\(family.name)")
            #expect((family.type == .counter) == family.name.hasSuffix("_total"), "\(family.name): only counters end in _total")
            let base = family.type == .counter ? String(family.name.dropLast(6)) : family.name
            if let unit = family.unit { #expect(base.hasSuffix("_" + unit), "\(family.name) ends with its unit") }
            #expect(!family.help.isEmpty && !family.help.contains("\n"))
        }
    }

    /// `| `name` | type | labels |` rows of the README's "Metrics" section.
    @Test func readmeTableListsExactlyTheCatalog() throws {
        let readme = try Self.read("README.md")
        let section = try #require(readme.components(separatedBy: "\n## Metrics\n").dropFirst().first)
        let table = section.components(separatedBy: "\n## ").first ?? ""
        var rows: [String: (type: String, labels: [String])] = [:]
        for line in table.split(separator: "\n") where line.hasPrefix("| `dedup_") || line.hasPrefix("| `process_") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let name = cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            let type = String(cells[1].split(separator: " ").first ?? "")
            // "result (`accepted`, …)" → "result"; "—" → no labels.
            let labels =
                cells[2] == "—"
                ? []
                : cells[2].replacingOccurrences(of: #"\([^)]*\)"#, with: "", options: .regularExpression)
                    .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            rows[name] = (type, labels)
        }
        #expect(Set(rows.keys) == Set(MetricsCatalog.all.map(\.name)), "README table vs catalog")
        for family in MetricsCatalog.all {
            guard let row = rows[family.name] else { continue }
            #expect(row.type == family.type.rawValue, "\(family.name): README says \(row.type)")
            #expect(row.labels == family.labels, "\(family.name): README labels \(row.labels), catalog \(family.labels)")
        }
    }

    /// `alerts/prometheus/exported-metrics.txt` is the catalog as `NAME TYPE` lines, for the dashboard and rule checks
    /// of `.ci/check-dashboards.py`; `UPDATE_GOLDEN=1` rewrites it from the catalog.
    @Test func exportedMetricsFileListsExactlyTheCatalog() throws {
        let path = "alerts/prometheus/exported-metrics.txt"
        let text = try Self.read(path)
        let header = text.split(separator: "\n").prefix { $0.hasPrefix("#") }.map { $0 + "\n" }.joined()
        let expected = header + MetricsCatalog.all.map { "\($0.name) \($0.type.rawValue)\n" }.joined()
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1", text != expected {
            try expected.write(to: Self.root.appendingPathComponent(path), atomically: true, encoding: .utf8)
            return
        }
        #expect(text == expected, "\(path) differs from the catalog: regenerate with UPDATE_GOLDEN=1")
    }

    /// Every `dedup_` name a dashboard queries is a catalog family (or a histogram's series), or a recording rule.
    @Test func dashboardsQueryOnlyExportedFamiliesAndRecordingRules() throws {
        var known = Set<String>()
        for family in MetricsCatalog.all {
            known.insert(family.name)
            if family.type == .histogram { for suffix in ["_bucket", "_sum", "_count"] { known.insert(family.name + suffix) } }
        }
        let rules = try Self.read("alerts/prometheus/dedup-vitals.rules.yml")
        for match in rules.matches(of: /record:\s*([a-zA-Z_:][a-zA-Z0-9_:]*)/) { known.insert(String(match.1)) }
        let dashboards = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("dashboards").path)
            .filter { $0.hasSuffix(".json") }
        #expect(!dashboards.isEmpty)
        for file in dashboards {
            let text = try Self.read("dashboards/" + file)
            let used = Set(text.matches(of: /[a-zA-Z0-9_:]*dedup_[a-zA-Z0-9_:]*/).map { String($0.0) })
            #expect(used.subtracting(known).isEmpty, "\(file) queries \(used.subtracting(known).sorted())")
        }
    }

    /// What the renderer writes: every family of the catalog, declared once, in catalog order, with the catalog's
    /// label names on its samples.
    @Test func renderedExpositionFollowsTheCatalog() {
        let text = MetricsGolden.render(format: .text)
        let declared = text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }
        #expect(declared.map(String.init) == MetricsCatalog.all.map(\.name))
        for family in MetricsCatalog.all {
            let samples = text.split(separator: "\n").filter {
                $0.hasPrefix(family.name + "{") || $0.hasPrefix(family.name + " ")
            }
            for sample in samples {
                let labels = sample.matches(of: /([a-z_]+)="/).map { String($0.1) }
                #expect(labels == family.labels, "\(sample)")
            }
        }
    }
}
