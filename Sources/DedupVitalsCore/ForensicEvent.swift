/// The part of an event that key forensics needs: hashed key and payload, client and timing. Produced on the request
/// path (hashing is done there, in parallel), consumed in order by ``KeyForensics`` on the writer.
public struct ForensicEvent: Sendable, Equatable {
    public var series: SeriesKey
    public var outcome: Outcome
    public var key: KeyHash?
    public var payload: KeyHash?
    public var timeMs: Int64
    public var ageMs: Int64?
    /// The trace that made the decision, kept for a key's first miss and for misses that are detections.
    public var trace: TraceContext?

    public init(
        series: SeriesKey, outcome: Outcome, key: KeyHash?, payload: KeyHash?, timeMs: Int64, ageMs: Int64?,
        trace: TraceContext? = nil
    ) {
        self.series = series
        self.outcome = outcome
        self.key = key
        self.payload = payload
        self.timeMs = timeMs
        self.ageMs = ageMs
        self.trace = trace
    }
}
