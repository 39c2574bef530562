/// Counts of each outcome, with the derived figures of docs/reference/events.md#derived-figures, plus the key-forensics
/// detections (double executions, late retries, suspected narrow keys) that share the same buckets and totals.
public struct OutcomeCounts: Sendable, Hashable {
    public var miss: Int64
    public var hit: Int64
    public var inFlight: Int64
    public var completed: Int64
    public var mismatch: Int64
    /// A key that got a second `miss` inside the dedup window.
    public var doubleExecutions: Int64
    /// A `miss` for a key whose first attempt lies further back than the dedup window.
    public var lateRetries: Int64
    /// A payload fingerprint seen under several keys in a short span.
    public var narrowKeys: Int64

    public init(
        miss: Int64 = 0, hit: Int64 = 0, inFlight: Int64 = 0, completed: Int64 = 0, mismatch: Int64 = 0,
        doubleExecutions: Int64 = 0, lateRetries: Int64 = 0, narrowKeys: Int64 = 0
    ) {
        self.miss = miss
        self.hit = hit
        self.inFlight = inFlight
        self.completed = completed
        self.mismatch = mismatch
        self.doubleExecutions = doubleExecutions
        self.lateRetries = lateRetries
        self.narrowKeys = narrowKeys
    }

    public static let zero = OutcomeCounts()

    /// The count of one outcome.
    public subscript(outcome: Outcome) -> Int64 {
        get {
            switch outcome {
            case .miss: miss
            case .hit: hit
            case .inFlight: inFlight
            case .completed: completed
            case .mismatch: mismatch
            }
        }
        set {
            switch outcome {
            case .miss: miss = newValue
            case .hit: hit = newValue
            case .inFlight: inFlight = newValue
            case .completed: completed = newValue
            case .mismatch: mismatch = newValue
            }
        }
    }

    /// miss + hit + in_flight + mismatch.
    public var attempts: Int64 { miss + hit + inFlight + mismatch }
    /// hit + in_flight.
    public var duplicates: Int64 { hit + inFlight }
    /// Total of every outcome, `completed` included.
    public var total: Int64 { attempts + completed }

    /// duplicates / attempts, 0 when there are no attempts.
    public var duplicateRatio: Double { ratio(duplicates) }
    /// in_flight / attempts, 0 when there are no attempts.
    public var inFlightRatio: Double { ratio(inFlight) }
    /// mismatch / attempts, 0 when there are no attempts.
    public var mismatchRatio: Double { ratio(mismatch) }

    private func ratio(_ part: Int64) -> Double {
        attempts == 0 ? 0 : Double(part) / Double(attempts)
    }

    public static func + (lhs: OutcomeCounts, rhs: OutcomeCounts) -> OutcomeCounts {
        var result = lhs
        result += rhs
        return result
    }

    public static func += (lhs: inout OutcomeCounts, rhs: OutcomeCounts) {
        lhs.miss &+= rhs.miss
        lhs.hit &+= rhs.hit
        lhs.inFlight &+= rhs.inFlight
        lhs.completed &+= rhs.completed
        lhs.mismatch &+= rhs.mismatch
        lhs.doubleExecutions &+= rhs.doubleExecutions
        lhs.lateRetries &+= rhs.lateRetries
        lhs.narrowKeys &+= rhs.narrowKeys
    }
}
