/// How a ``DecisionReporter`` buffers, batches and delivers. Defaults suit a service sending a few thousand
/// decisions per second to a dedup-vitals on the same network.
public struct ReporterConfiguration: Sendable {
    /// Base URL of dedup-vitals (`http://127.0.0.1:9470`); events go to `<endpoint>/v1/events`.
    public var endpoint: String
    /// Bearer token, when the service has `auth.tokens` configured.
    public var bearerToken: String?
    /// Most events held in memory waiting to be sent (the batch being delivered not included). When full, a new
    /// event is dropped and counted (`reason="buffer_full"`); the events already waiting keep their place, so an
    /// outage loses its newest decisions, not the ones that explain how it began.
    public var bufferCapacity: Int = 10_000
    /// Most events in one request. A full batch is sent at once.
    public var maxBatchSize: Int = 500
    /// How long the first event of a partial batch waits for company before the batch is sent.
    public var linger: Duration = .milliseconds(500)
    /// Body compression. With `.gzip`, a service that does not accept `Content-Encoding: gzip` (415, or 400
    /// `invalid_json` on a gzip body) makes the reporter resend that batch and the following ones uncompressed.
    public var compression: Compression = .gzip
    /// Time limit of one delivery attempt (connect, send, answer).
    public var requestTimeout: Duration = .seconds(10)
    /// First retry delay; it doubles per attempt up to ``maxBackoff``. Half of each delay is random (jitter).
    public var initialBackoff: Duration = .milliseconds(500)
    public var maxBackoff: Duration = .seconds(30)
    /// Longest `Retry-After` honoured; longer requests are cut to this.
    public var maxRetryAfter: Duration = .seconds(300)
    /// A batch whose oldest event is older than this is given up (`reason="expired"`): dedup-vitals accepts
    /// timestamps back to one hour, and this leaves room for clock skew.
    public var maxEventAge: Duration = .seconds(55 * 60)
    /// On graceful shutdown, how long the reporter may take to send what it holds; what is left is dropped
    /// (`reason="shutdown"`).
    public var shutdownFlushTimeout: Duration = .seconds(5)
    /// Prefix of the reporter's own swift-metrics labels.
    public var metricsPrefix: String = "dedup_vitals_reporter"

    public enum Compression: Sendable, Equatable {
        case none
        case gzip
    }

    public init(endpoint: String) {
        self.endpoint = endpoint
    }
}
