/// One decision of an idempotency layer about one request (docs/reference/events.md#outcomes).
public enum Outcome: UInt8, Sendable, CaseIterable, Hashable, Codable {
    /// The key was new; this attempt executes the action (the lock is taken).
    case miss = 0
    /// The key had a stored outcome; it was replayed, nothing executed again.
    case hit = 1
    /// The key's first attempt was still running; this attempt was refused or made to wait.
    case inFlight = 2
    /// The first attempt finished and its outcome was stored.
    case completed = 3
    /// The key was reused with a different payload.
    case mismatch = 4

    /// The name used on the wire and as the `outcome` label value.
    public var name: String {
        switch self {
        case .miss: "miss"
        case .hit: "hit"
        case .inFlight: "in_flight"
        case .completed: "completed"
        case .mismatch: "mismatch"
        }
    }

    /// Parses the wire name of an outcome.
    public init?(name: some StringProtocol) {
        switch name {
        case "miss": self = .miss
        case "hit": self = .hit
        case "in_flight": self = .inFlight
        case "completed": self = .completed
        case "mismatch": self = .mismatch
        default: return nil
        }
    }

    /// Whether this outcome is an attempt (everything but `completed`).
    public var isAttempt: Bool { self != .completed }

    /// Whether this outcome is a duplicate attempt (`hit` or `in_flight`).
    public var isDuplicate: Bool { self == .hit || self == .inFlight }
}
