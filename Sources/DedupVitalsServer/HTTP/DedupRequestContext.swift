import Hummingbird

/// The request context of every route.
public struct DedupRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The authenticated API token, when tokens are configured (set by ``AuthMiddleware``).
    public var caller: Credentials.Caller?
    /// The client's IP address (administrative routes without tokens are loopback only).
    public var remoteAddress: String?

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress?.ipAddress
    }

    /// Hummingbird's own decoding limit (2 MiB by default), raised to the largest configurable body. The ingest route
    /// streams the body itself and enforces the configured `limits.max_body_bytes`.
    public var maxUploadSize: Int { 1 << 30 }
}
