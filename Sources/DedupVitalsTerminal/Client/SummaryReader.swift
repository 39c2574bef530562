import DedupVitalsCore
import Foundation

/// Reads the body of `GET /v1/summary` into a ``SummaryResponse``, field by field, with the meaning of the types'
/// `Decodable` conformances (which stay, and which the tests compare this reader with): required fields fail when
/// absent, `null` reads as absent, the forensics, `last_seen`, `generated_at` and `alerts` read as absent when of
/// another type, and unknown fields are skipped.
///
/// Why by hand: at 10,000 series the summary is 8 MB of about 700,000 numbers, and `JSONDecoder` took about 0.9 s of
/// the 1.8 s of one refresh of `top` (docs/performance.md, "`top` at 10,000 series"); this reader takes a small part
/// of that. Only the series array is hot: the alerts are handed to `JSONDecoder`.
enum SummaryReader {
    static func read(_ body: UnsafeBufferPointer<UInt8>) throws -> SummaryResponse {
        var scanner = JSONScanner(body)
        var generatedAt: String?
        var windows: [String]?
        var overall: [String: WindowCounts] = [:]
        var series: [SeriesSummary]?
        var alerts: [AlertItem]?
        try scanner.forEachField { scanner, name in
            switch name {
            case "generated_at": generatedAt = try tolerantOptional(&scanner) { try $0.string() }
            case "windows": windows = try strings(&scanner)
            case "overall": overall = try optional(&scanner, countsByLabel) ?? [:]
            case "series": series = try seriesArray(&scanner)
            case "alerts": alerts = try? JSONDecoder().decode([AlertItem]?.self, from: Data(try scanner.skipValue()))
            default: try scanner.skipValue()
            }
        }
        try scanner.finish()
        guard let windows else { throw Missing(field: "windows") }
        guard let series else { throw Missing(field: "series") }
        return SummaryResponse(generatedAt: generatedAt, windows: windows, overall: overall, series: series, alerts: alerts)
    }

    /// A required field that is absent (or `null`).
    struct Missing: Error, CustomStringConvertible {
        var field: String
        var description: String { "missing field \(field)" }
    }

    private static func seriesArray(_ scanner: inout JSONScanner) throws -> [SeriesSummary] {
        var series: [SeriesSummary] = []
        try scanner.forEachElement { series.append(try seriesSummary(&$0)) }
        return series
    }

    private static func seriesSummary(_ scanner: inout JSONScanner) throws -> SeriesSummary {
        var service: String?
        var operation: String?
        var item = SeriesSummary(service: "", operation: "")
        try scanner.forEachField { scanner, name in
            switch name {
            case "service": service = try optional(&scanner) { try $0.string() }
            case "operation": operation = try optional(&scanner) { try $0.string() }
            case "last_seen": item.lastSeen = try tolerantOptional(&scanner) { try $0.string() }
            case "totals": item.totals = try optional(&scanner) { try counts(&$0) } ?? .zero
            case "windows": item.windows = try optional(&scanner, countsByLabel) ?? [:]
            case "in_flight_keys": item.inFlightKeys = try tolerantInteger(&scanner)
            case "stale_in_flight_keys": item.staleInFlightKeys = try tolerantInteger(&scanner)
            case "double_executions": item.doubleExecutions = try tolerantInteger(&scanner)
            case "late_retries": item.lateRetries = try tolerantInteger(&scanner)
            case "suspected_narrow_keys": item.suspectedNarrowKeys = try tolerantInteger(&scanner)
            case "retry_delay": item.retryDelay = try tolerantOptional(&scanner, retryDelay)
            case "top_clients": item.topClients = try tolerantOptional(&scanner, clients) ?? []
            default: try scanner.skipValue()
            }
        }
        guard let service else { throw Missing(field: "service") }
        guard let operation else { throw Missing(field: "operation") }
        item.service = service
        item.operation = operation
        return item
    }

    /// Counts of each outcome; the other fields (`attempts`, `duplicate_ratio`, ...) follow from them and are
    /// skipped, except those `other` reads (it must read or skip the value).
    static func counts(
        _ scanner: inout JSONScanner,
        other: (inout JSONScanner, JSONScanner.Name) throws -> Void = { scanner, _ in try scanner.skipValue() }
    ) throws -> WindowCounts {
        var counts = WindowCounts.zero
        try scanner.forEachField { scanner, name in
            switch name {
            case "miss": counts.counts[.miss] = try optional(&scanner) { try $0.int64() } ?? 0
            case "hit": counts.counts[.hit] = try optional(&scanner) { try $0.int64() } ?? 0
            case "in_flight": counts.counts[.inFlight] = try optional(&scanner) { try $0.int64() } ?? 0
            case "completed": counts.counts[.completed] = try optional(&scanner) { try $0.int64() } ?? 0
            case "mismatch": counts.counts[.mismatch] = try optional(&scanner) { try $0.int64() } ?? 0
            default: try other(&scanner, name)
            }
        }
        return counts
    }

    private static func countsByLabel(_ scanner: inout JSONScanner) throws -> [String: WindowCounts] {
        var byLabel: [String: WindowCounts] = [:]
        try scanner.forEachField { scanner, name in byLabel[name.string] = try counts(&scanner) }
        return byLabel
    }

    private static func retryDelay(_ scanner: inout JSONScanner) throws -> SeriesSummary.RetryDelay {
        var delay = SeriesSummary.RetryDelay(p50Seconds: nil, p99Seconds: nil, dedupWindowSeconds: nil)
        try scanner.forEachField { scanner, name in
            switch name {
            case "p50_seconds": delay.p50Seconds = try optional(&scanner) { try $0.double() }
            case "p99_seconds": delay.p99Seconds = try optional(&scanner) { try $0.double() }
            case "dedup_window_seconds": delay.dedupWindowSeconds = try optional(&scanner) { try $0.double() }
            default: try scanner.skipValue()
            }
        }
        return delay
    }

    private static func clients(_ scanner: inout JSONScanner) throws -> [SeriesSummary.ClientFigures] {
        var clients: [SeriesSummary.ClientFigures] = []
        try scanner.forEachElement { scanner in
            var client: String?
            var attempts: Int64?
            var duplicates: Int64?
            var ratio: Double?
            try scanner.forEachField { scanner, name in
                switch name {
                case "client": client = try optional(&scanner) { try $0.string() }
                case "attempts": attempts = try optional(&scanner) { try $0.int64() }
                case "duplicates": duplicates = try optional(&scanner) { try $0.int64() }
                case "duplicate_ratio": ratio = try optional(&scanner) { try $0.double() }
                default: try scanner.skipValue()
                }
            }
            guard let client, let attempts, let duplicates, let ratio else { throw Missing(field: "top_clients") }
            clients.append(.init(client: client, attempts: attempts, duplicates: duplicates, duplicateRatio: ratio))
        }
        return clients
    }

    static func strings(_ scanner: inout JSONScanner) throws -> [String] {
        var strings: [String] = []
        try scanner.forEachElement { strings.append(try $0.string()) }
        return strings
    }

    private static func tolerantInteger(_ scanner: inout JSONScanner) throws -> Int64? {
        try tolerantOptional(&scanner) { try $0.int64() }
    }

    /// As `try? decodeIfPresent`: nil for `null` and for a value of another type.
    private static func tolerantOptional<T>(
        _ scanner: inout JSONScanner, _ read: (inout JSONScanner) throws -> T
    ) throws -> T? {
        try scanner.tolerant { try optional(&$0, read) } ?? nil
    }

    /// nil for `null`, else the value `read` reads.
    static func optional<T>(_ scanner: inout JSONScanner, _ read: (inout JSONScanner) throws -> T) throws -> T? {
        scanner.consumeNull() ? nil : try read(&scanner)
    }
}
