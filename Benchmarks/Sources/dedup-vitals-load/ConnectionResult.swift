import Histogram

/// What one connection saw during the measured part of a phase.
struct ConnectionResult: Sendable {
    /// Answers that completed inside the measurement window and were as expected.
    var ok = 0
    /// Answers with another status or body, and transport errors.
    var failures = 0
    /// The first unexpected answer, for the report.
    var firstFailure: String?
    /// Acknowledgement latency of the counted answers, microseconds.
    var latencyMicros = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    /// Response body bytes of the counted answers.
    var bodyBytes = 0

    mutating func add(_ other: ConnectionResult) {
        ok += other.ok
        failures += other.failures
        firstFailure = firstFailure ?? other.firstFailure
        latencyMicros.add(other.latencyMicros)
        bodyBytes += other.bodyBytes
    }
}
