/// Where an idempotency layer sends its decisions: the seam between a layer (such as the Hummingbird middleware)
/// and the transport. ``DecisionReporter`` is the one that sends them to dedup-vitals.
public protocol DecisionRecorder: Sendable {
    /// Must return quickly and never fail the caller.
    func record(_ event: DecisionEvent)
}

extension DecisionReporter: DecisionRecorder {}
