import HTTPTypes

/// How ``IdempotencyMiddleware`` treats the routes it guards. Defaults follow Stripe's API.
public struct IdempotencyConfiguration: Sendable {
    /// The request header carrying the key.
    public var headerName: HTTPField.Name = .init("Idempotency-Key")!
    /// Longest key accepted (bytes of UTF-8); a longer one gets 400 `invalid_idempotency_key`.
    public var maxKeyLength = 255
    /// When true, a request without the header gets 400 `idempotency_key_required`; otherwise it runs unguarded
    /// (and is not reported).
    public var keyRequired = false
    /// How long a completed key replays its response (24 h).
    public var ttl: Duration = .seconds(24 * 3600)
    /// How long a lock outlives its last renewal. While the handler runs the lock is renewed every third of this;
    /// if the worker dies, the next attempt may take the key this long after the last renewal.
    public var lockTimeout: Duration = .seconds(30)
    /// What a retry gets while the first attempt still runs.
    public var inFlight: InFlightPolicy = .reject
    /// Request headers that are part of the fingerprint besides method, path and body (e.g. `Content-Type`).
    public var fingerprintHeaders: [HTTPField.Name] = []
    /// Largest request body read for the fingerprint; larger requests get 413.
    public var maxRequestBodyBytes = 1 << 20
    /// Largest response body stored for replay. A larger response is still sent, but not stored: its lock is
    /// released and the next attempt executes again (logged as an error).
    public var maxStoredResponseBytes = 1 << 20
    /// Which responses are stored and replayed. By default everything below 500 except 408 and 429, so that an
    /// attempt that failed on the server's side (or was throttled) can be retried for real.
    public var storesResponse: @Sendable (HTTPResponse.Status) -> Bool = { status in
        status.code < 500 && status.code != 408 && status.code != 429
    }

    public enum InFlightPolicy: Sendable, Equatable {
        /// 409 `request_in_progress` with `Retry-After: 1` at once.
        case reject
        /// Wait for the first attempt's result for up to this long, then replay it (or 409 if it is still running).
        case wait(upTo: Duration)
    }

    public init() {}
}
