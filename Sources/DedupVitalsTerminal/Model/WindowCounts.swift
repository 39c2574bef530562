import DedupVitalsCore

/// Counts of each outcome as the service's JSON API writes them (one window of `/v1/summary`, one point of
/// `/v1/series`). Attempts, duplicates, ratios: as in ``OutcomeCounts`` (docs/reference/events.md), read through
/// dynamic member lookup: `counts.attempts`, `counts.duplicateRatio`.
@dynamicMemberLookup
public struct WindowCounts: Decodable, Sendable, Equatable {
    public var counts: OutcomeCounts

    public init(miss: Int64 = 0, hit: Int64 = 0, inFlight: Int64 = 0, completed: Int64 = 0, mismatch: Int64 = 0) {
        counts = OutcomeCounts(miss: miss, hit: hit, inFlight: inFlight, completed: completed, mismatch: mismatch)
    }

    public init(_ counts: OutcomeCounts) {
        self.counts = counts
    }

    public static let zero = WindowCounts()

    public subscript<T>(dynamicMember keyPath: KeyPath<OutcomeCounts, T>) -> T {
        counts[keyPath: keyPath]
    }

    /// The count of one outcome.
    public subscript(outcome: Outcome) -> Int64 { counts[outcome] }

    private struct OutcomeKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: OutcomeKey.self)
        counts = .zero
        for outcome in Outcome.allCases {
            counts[outcome] = try container.decodeIfPresent(Int64.self, forKey: OutcomeKey(stringValue: outcome.name)) ?? 0
        }
    }

    /// Adds counts up.
    public static func + (lhs: WindowCounts, rhs: WindowCounts) -> WindowCounts {
        WindowCounts(lhs.counts + rhs.counts)
    }
}
