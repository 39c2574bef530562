import HTTPTypes

extension HTTPField.Name {
    /// `Idempotent-Replayed: true` marks a response replayed from the store (Stripe's header).
    public static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!
    /// W3C trace context: the decision is reported with its trace and span ids.
    static let traceparent = HTTPField.Name("traceparent")!
}
