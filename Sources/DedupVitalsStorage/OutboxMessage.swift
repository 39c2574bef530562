/// One notification in the durable webhook outbox. Its `id` is the `webhook-id` of every attempt.
public struct OutboxMessage: Sendable, Equatable {
    /// Where a message is in its life.
    public enum Status: String, Sendable, CaseIterable {
        /// Waiting for its (next) attempt.
        case pending
        case delivered
        /// Gave up: a 4xx, or retries past 24 h, or the receiver is no longer configured.
        case failed
        /// The receiver answered 410 Gone to this or another message.
        case disabled
    }

    public var id: String
    public var receiver: String
    /// The exact bytes POSTed (and signed).
    public var body: [UInt8]
    /// Attempts made so far.
    public var attempts: Int
    public var nextAttemptMs: Int64
    public var createdMs: Int64
    public var status: Status

    public init(
        id: String, receiver: String, body: [UInt8], attempts: Int = 0, nextAttemptMs: Int64, createdMs: Int64,
        status: Status = .pending
    ) {
        self.id = id
        self.receiver = receiver
        self.body = body
        self.attempts = attempts
        self.nextAttemptMs = nextAttemptMs
        self.createdMs = createdMs
        self.status = status
    }
}
