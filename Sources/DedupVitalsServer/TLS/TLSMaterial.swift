import DedupVitalsCore
import NIOSSL

/// Reads the files of the `tls` section into a server `NIOSSLContext`, at start and on every reload (so that
/// certificates rotate without a restart): the certificate chain and key (PEM), the client CA for mutual TLS, and the
/// lowest accepted version (TLS 1.2 unless `min_version: TLS13`). Every problem names its file.
enum TLSMaterial {
    static func context(for tls: ServiceConfig.TLS) throws(ConfigError) -> NIOSSLContext {
        var problems: [ConfigProblem] = []
        func problem(_ file: String, _ message: String) { problems.append(ConfigProblem(file: file, line: 0, message: message)) }

        var chain: [NIOSSLCertificate] = []
        do {
            chain = try NIOSSLCertificate.fromPEMFile(tls.certFile)
            if chain.isEmpty { problem(tls.certFile, "tls.cert_file holds no PEM certificate") }
        } catch {
            problem(tls.certFile, "tls.cert_file cannot be read as PEM certificates (\(error))")
        }
        var key: NIOSSLPrivateKey?
        do { key = try NIOSSLPrivateKey(file: tls.keyFile, format: .pem) } catch {
            problem(tls.keyFile, "tls.key_file cannot be read as a PEM private key (\(error))")
        }
        var clientCAs: [NIOSSLCertificate] = []
        if let file = tls.clientCAFile {
            do {
                clientCAs = try NIOSSLCertificate.fromPEMFile(file)
                if clientCAs.isEmpty { problem(file, "tls.client_ca_file holds no PEM certificate") }
            } catch {
                problem(file, "tls.client_ca_file cannot be read as PEM certificates (\(error))")
            }
        }
        guard problems.isEmpty, let key else { throw ConfigError(problems) }

        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = tls.minVersion == .tls13 ? .tlsv13 : .tlsv12
        if !clientCAs.isEmpty {
            // Mutual TLS: a client without a certificate signed by one of these CAs fails the handshake. Clients
            // connect by address, so their names are not checked.
            configuration.certificateVerification = .noHostnameVerification
            configuration.trustRoots = .certificates(clientCAs)
            configuration.sendCANameList = true
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            // Most often a key that does not belong to the certificate.
            throw ConfigError([
                ConfigProblem(
                    file: tls.keyFile, line: 0, message: "tls: the key and certificate cannot be used together (\(error))")
            ])
        }
    }
}
