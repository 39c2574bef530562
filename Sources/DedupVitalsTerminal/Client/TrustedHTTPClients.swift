import AsyncHTTPClient
import NIOSSL
import Synchronization

/// HTTP clients that trust the CA certificates of a PEM file (`--cacert`), one per file for the process' lifetime
/// (an `HTTPClient` must be shut down before it is released; these never are, like `HTTPClient.shared`).
enum TrustedHTTPClients {
    private static let clients = Mutex<[String: HTTPClient]>([:])

    /// The client trusting the CAs in `caFile` (and only them); throws the reason when the file is unusable.
    static func client(trusting caFile: String) throws(ServiceClientError) -> HTTPClient {
        if let client = clients.withLock({ $0[caFile] }) { return client }
        let roots: [NIOSSLCertificate]
        do {
            roots = try NIOSSLCertificate.fromPEMFile(caFile)
        } catch {
            throw .invalidCA(file: caFile, reason: "\(error)")
        }
        guard !roots.isEmpty else { throw .invalidCA(file: caFile, reason: "no PEM certificate in it") }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(roots)
        tls.minimumTLSVersion = .tlsv12
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.tlsConfiguration = tls
        return clients.withLock { clients in
            if let existing = clients[caFile] { return existing }
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            clients[caFile] = client
            return client
        }
    }
}
