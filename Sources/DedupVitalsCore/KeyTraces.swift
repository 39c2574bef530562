/// The traces key forensics keeps for one key: the trace of its first miss, and the trace of the latest miss that
/// was a detection (a double execution or a late retry). With them, `/v1/keys/lookup` leads from a key that ran twice
/// to both requests that ran it, and a stale lock to the request that took it.
///
/// A class, so that a ``KeyRecord`` holds one pointer (nil for keys reported without trace context) instead of 49
/// bytes inline: a million tracked keys cost 8 MB more with it, not 56 MB. Immutable; a change makes a new one.
public final class KeyTraces: Sendable, Equatable {
    /// What the repeated miss was.
    public enum Detection: UInt8, Sendable {
        case doubleExecution = 1
        case lateRetry = 2
    }

    /// The trace of the key's first miss (kept across late retries: the first execution of all).
    public let firstMiss: TraceContext?
    /// The trace of the latest miss that was a detection, and which.
    public let repeatMiss: TraceContext?
    public let repeatDetection: Detection?

    public init(firstMiss: TraceContext?, repeatMiss: TraceContext? = nil, repeatDetection: Detection? = nil) {
        self.firstMiss = firstMiss
        self.repeatMiss = repeatMiss
        self.repeatDetection = repeatMiss == nil ? nil : repeatDetection
    }

    /// The trace of the miss that holds the key's lock when it is open: the latest miss, which is the repeated one
    /// when there was one.
    public var lockHolder: TraceContext? { repeatMiss ?? firstMiss }

    /// These traces with `trace` as the latest detection.
    public func repeated(_ trace: TraceContext, as detection: Detection) -> KeyTraces {
        KeyTraces(firstMiss: firstMiss, repeatMiss: trace, repeatDetection: detection)
    }

    public static func == (lhs: KeyTraces, rhs: KeyTraces) -> Bool {
        lhs === rhs
            || (lhs.firstMiss == rhs.firstMiss && lhs.repeatMiss == rhs.repeatMiss && lhs.repeatDetection == rhs.repeatDetection)
    }
}
