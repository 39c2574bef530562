import HummingbirdCore
import Logging
import NIOCore
import NIOSSL

/// A TLS layer under the HTTP/1.1 channel of each new connection that takes its `NIOSSLContext` from the live
/// configuration when the connection is accepted: a reload with new certificate files serves them to the next
/// connection, while open connections finish with the context they started with. (HummingbirdTLS' channel fixes one
/// context for the server's lifetime.)
struct ReloadableTLSChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let base: Base
    /// The context for a new connection; nil (TLS configured but its files unusable): the connection is refused,
    /// never served in clear text.
    let context: @Sendable () -> NIOSSLContext?

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            guard let sslContext = self.context() else { throw NIOSSLError.failedToLoadCertificate }
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 over TLS, with the context read per connection (see ``ReloadableTLSChannel``).
    static func https(
        configuration: HTTP1Channel.Configuration, tlsContext: @escaping @Sendable () -> NIOSSLContext?
    ) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            ReloadableTLSChannel(base: HTTP1Channel(responder: responder, configuration: configuration), context: tlsContext)
        }
    }
}
