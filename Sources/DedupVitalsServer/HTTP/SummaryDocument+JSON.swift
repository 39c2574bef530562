import DedupVitalsCore
import Foundation

/// `GET /v1/summary` written straight into bytes: the same bytes `JSONEncoder` (`.sortedKeys`,
/// `.withoutEscapingSlashes`, as ``ReadController/jsonEncoder()``) writes for the document, in a fraction of the time.
/// At 10,000 series `JSONEncoder` took about 80 % of the answer's half second (docs/performance.md, "`top` at
/// 10,000 series"). The keys are written here in sorted order; the tests compare these bytes with `JSONEncoder`'s.
extension SummaryDocument {
    func jsonBytes() throws -> [UInt8] {
        var out = JSONOutput(capacity: 1024 + series.count * 900)
        // The alerts (free-form labels and annotations) are spelled by `JSONEncoder`.
        out.raw(#"{"alerts":"#)
        out.raw(try ReadController.jsonEncoder().encode(alerts))
        out.field(#","generated_at":"#, generatedAt)
        out.raw(#","overall":"#)
        try Self.write(overall, to: &out)
        out.raw(#","series":["#)
        for (index, item) in series.enumerated() {
            if index > 0 { out.raw(",") }
            try Self.write(item, to: &out)
        }
        out.raw(#"],"windows":["#)
        for (index, label) in windows.enumerated() {
            if index > 0 { out.raw(",") }
            out.string(label)
        }
        out.raw("]}")
        return out.bytes
    }

    private static func write(_ item: Series, to out: inout JSONOutput) throws {
        out.field(#"{"double_executions":"#, item.doubleExecutions)
        out.field(#","in_flight_keys":"#, item.inFlightKeys)
        out.field(#","last_seen":"#, item.lastSeen)
        out.field(#","late_retries":"#, item.lateRetries)
        out.field(#","operation":"#, item.operation)
        out.field(#","retry_delay":{"count":"#, item.retryDelay.count)
        try out.field(#","dedup_window_seconds":"#, item.retryDelay.dedupWindowSeconds)
        if let p50 = item.retryDelay.p50Seconds {
            try out.field(#","p50_seconds":"#, p50)
        }
        if let p99 = item.retryDelay.p99Seconds {
            try out.field(#","p99_seconds":"#, p99)
        }
        out.field(#"},"service":"#, item.service)
        out.field(#","stale_in_flight_keys":"#, item.staleInFlightKeys)
        out.field(#","suspected_narrow_keys":"#, item.suspectedNarrowKeys)
        out.raw(#","top_clients":["#)
        for (index, client) in item.topClients.enumerated() {
            if index > 0 { out.raw(",") }
            out.field(#"{"attempts":"#, client.attempts)
            out.field(#","client":"#, client.client)
            try out.field(#","duplicate_ratio":"#, client.duplicateRatio)
            out.field(#","duplicates":"#, client.duplicates)
            out.raw("}")
        }
        out.raw(#"],"totals":"#)
        try write(item.totals, to: &out)
        out.raw(#","windows":"#)
        try write(item.windows, to: &out)
        out.raw("}")
    }

    /// Counts by window label, in the labels' byte order (as `.sortedKeys`).
    private static func write(_ byLabel: [String: Counts], to out: inout JSONOutput) throws {
        out.raw("{")
        for (index, entry) in byLabel.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }).enumerated() {
            if index > 0 { out.raw(",") }
            out.string(entry.key)
            out.raw(":")
            try write(entry.value, to: &out)
        }
        out.raw("}")
    }

    private static func write(_ counts: Counts, to out: inout JSONOutput) throws {
        out.field(#"{"attempts":"#, counts.attempts)
        out.field(#","completed":"#, counts.completed)
        try out.field(#","duplicate_ratio":"#, counts.duplicateRatio)
        out.field(#","duplicates":"#, counts.duplicates)
        out.field(#","hit":"#, counts.hit)
        out.field(#","in_flight":"#, counts.inFlight)
        out.field(#","mismatch":"#, counts.mismatch)
        out.field(#","miss":"#, counts.miss)
        out.raw("}")
    }
}
