/// One event of the generator's request pool, before it is encoded as JSON or OTLP.
struct PlannedEvent: Sendable {
    var operation: String
    var outcome: String
    var key: String?
    var client: String?
    var ageMs: Int?

    /// How the outcomes of the pool are chosen.
    enum Mix: String, Sendable, CaseIterable {
        /// A fixed cycle of eight: three misses, three completions, a hit and an in-flight, no ages.
        case cycle
        /// As reported by services that retry: of every ten events seven misses, two completions and a hit that
        /// carries `age_ms` (the retry's delay after the first attempt).
        case retries
    }

    private static let cycle = ["miss", "completed", "hit", "miss", "completed", "in_flight", "miss", "completed"]
    private static let retries = ["miss", "completed", "miss", "miss", "hit", "miss", "completed", "miss", "miss", "miss"]

    /// The outcome and age of event `index` of the pool.
    static func outcome(_ index: Int, mix: Mix) -> (outcome: String, ageMs: Int?) {
        switch mix {
        case .cycle:
            return (cycle[index % cycle.count], nil)
        case .retries:
            let outcome = retries[index % retries.count]
            return (outcome, outcome == "hit" ? 200 + index % 5_000 : nil)
        }
    }

    /// The fixed-width tail of every key under `--fresh-keys`, rewritten before each send (see ``FreshKeys``).
    static let freshKeyPlaceholder = "-" + String(repeating: "0", count: FreshKeys.digits)
}
