import Foundation
import Testing

/// HTTPS on the service's own listener, tried with real clients: curl, Python's `ssl`, `top` and `simulate`, and
/// mutual TLS.
@Suite("TLS", .serialized)
struct TLSTests {
    /// Starts `serve` with a `tls` section; returns the process and its https base URL.
    static func start(
        _ ca: TestCA, clientCA: String? = nil, extra: String = "", environment: [String: String] = [:]
    ) async throws -> (ServeProcess, String, String) {
        let config = ca.dir.file("config.yml")
        var tls = "tls:\n  cert_file: server.pem\n  key_file: server.key\n"
        if let clientCA { tls += "  client_ca_file: \(clientCA)\n" }
        try (tls + extra).write(toFile: config, atomically: true, encoding: .utf8)
        let process = try ServeProcess(
            ["serve", "--config", config, "--listen", "127.0.0.1:0", "--db", ca.dir.file("db.sqlite")], environment: environment)
        let url = try await process.baseURL().replacingOccurrences(of: "http://", with: "https://")
        return (process, url, config)
    }

    static func curl(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try TestCA.run(["curl", "-sS", "--max-time", "10"] + arguments)
    }

    /// The common name of the certificate the server presents, and the protocol version, through Python's `ssl`.
    static func python(
        _ url: String, ca: String, maximumVersion: String = "MAXIMUM_SUPPORTED"
    ) throws -> (status: Int32, output: String) {
        let port = url.split(separator: ":").last!
        let script = """
            import socket, ssl, sys
            context = ssl.create_default_context(cafile=sys.argv[1])
            context.maximum_version = getattr(ssl.TLSVersion, sys.argv[3])
            with socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=10) as raw:
                with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                    tls.sendall(b"GET /healthz HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nConnection: close\\r\\n\\r\\n")
                    answer = tls.recv(4096).decode()
                    subject = dict(item[0] for item in tls.getpeercert()["subject"])
                    print(tls.version(), subject["commonName"], answer.split("\\r\\n")[0])
            """
        return try TestCA.run(["python3", "-c", script, ca, String(port), maximumVersion])
    }

    @Test func curlAndPythonTrustTheServiceThroughTheTestCAAndCertificatesRotateOnReload() async throws {
        let ca = try TestCA()
        try ca.issue("server", commonName: "first")
        let (process, url, _) = try await Self.start(ca)
        let healthy = try Self.curl(["--cacert", ca.certificate, url + "/healthz"])
        #expect(healthy.status == 0 && healthy.output.contains(#""status":"ok""#), "\(healthy.output)")
        // Without the CA the certificate is not trusted.
        #expect(try Self.curl([url + "/healthz"]).status == 60)
        // Plain HTTP on the TLS port gets no answer.
        #expect(try Self.curl([url.replacingOccurrences(of: "https://", with: "http://") + "/healthz"]).status != 0)

        let python = try Self.python(url, ca: ca.certificate)
        #expect(python.status == 0, "\(python.output)")
        #expect(python.output.hasPrefix("TLSv1.3 first HTTP/1.1 200"), "\(python.output)")
        // TLS 1.1 and older are refused.
        #expect(try Self.python(url, ca: ca.certificate, maximumVersion: "TLSv1_1").status != 0)
        #expect(try Self.python(url, ca: ca.certificate, maximumVersion: "TLSv1_2").output.hasPrefix("TLSv1.2 first"))

        // A new certificate in the same files is served after a reload, without a restart.
        try ca.issue("server", commonName: "second")
        let reload = try Self.curl(["--cacert", ca.certificate, "-X", "POST", url + "/-/reload"])
        #expect(reload.output.contains(#""status":"success""#), "\(reload.output)")
        #expect(try Self.python(url, ca: ca.certificate).output.hasPrefix("TLSv1.3 second HTTP/1.1 200"))
        #expect(await process.stop() == 0)
    }

    @Test func mutualTLSRefusesAClientWithoutACertificate() async throws {
        let ca = try TestCA()
        try ca.issue("server", commonName: "server")
        let clientCA = try TestCA(name: "client CA")
        let client = try clientCA.issue("client", commonName: "reporter", server: false)
        let stranger = try TestCA(name: "stranger CA").issue("stranger", commonName: "stranger", server: false)
        let (process, url, _) = try await Self.start(ca, clientCA: clientCA.certificate)
        let event = #"{"service":"a","operation":"b","outcome":"miss"}"#
        let post = ["--cacert", ca.certificate, "-H", "Content-Type: application/json", "-d", event, url + "/v1/events"]
        #expect(try Self.curl(post).status != 0)
        #expect(try Self.curl(["--cert", stranger.certificate, "--key", stranger.key] + post).status != 0)
        let accepted = try Self.curl(["--cert", client.certificate, "--key", client.key] + post)
        #expect(accepted.status == 0 && accepted.output.contains(#""accepted":1"#), "\(accepted.output)")
        #expect(await process.stop() == 0)
    }

    @Test func topAndSimulateTalkHTTPSWithACAOption() async throws {
        let ca = try TestCA()
        try ca.issue("server", commonName: "server")
        let (process, url, _) = try await Self.start(ca)
        let simulate = try ServiceProcess.run([
            "simulate", "--url", url, "--cacert", ca.certificate, "--duration", "1", "--rate", "100", "--scenario", "steady",
        ])
        #expect(simulate.status == 0, "\(simulate.stderr)")
        #expect(
            simulate.stdout.contains("accepted") || simulate.stderr.contains("accepted"), "\(simulate.stdout)\(simulate.stderr)")
        let top = try ServiceProcess.run(["top", "--once", "--url", url, "--cacert", ca.certificate])
        #expect(top.status == 0, "\(top.stderr)")
        #expect(top.stdout.contains("payments"), "\(top.stdout)")
        // Without the CA, the service's certificate is refused: one line on stderr, exit 1.
        let untrusted = try ServiceProcess.run(["top", "--once", "--url", url])
        #expect(untrusted.status == 1)
        #expect(await process.stop() == 0)
    }

    @Test func unusableCertificateFilesStopTheStartWithTheirNames() async throws {
        let ca = try TestCA()
        try "not a certificate".write(toFile: ca.dir.file("server.pem"), atomically: true, encoding: .utf8)
        try "not a key".write(toFile: ca.dir.file("server.key"), atomically: true, encoding: .utf8)
        let config = ca.dir.file("config.yml")
        try "tls: {cert_file: server.pem, key_file: server.key, min_version: TLS11}\n".write(
            toFile: config, atomically: true, encoding: .utf8)
        let result = try ServiceProcess.run([
            "serve", "--config", config, "--listen", "127.0.0.1:0", "--db", ca.dir.file("db.sqlite"),
        ])
        #expect(result.status == 78)
        #expect(result.stderr.contains("config.yml:1: tls.min_version must be TLS12 or TLS13"), "\(result.stderr)")
        #expect(result.stderr.contains(ca.dir.file("server.pem") + ": tls.cert_file"), "\(result.stderr)")
        #expect(result.stderr.contains(ca.dir.file("server.key") + ": tls.key_file"), "\(result.stderr)")
    }

    @Test func tokensWithoutTLSOnANonLoopbackListenerWarn() async throws {
        let dir = try TemporaryDirectory()
        let config = dir.file("config.yml")
        try "auth:\n  tokens:\n    - {name: a, token_env: A_TOKEN}\n".write(toFile: config, atomically: true, encoding: .utf8)
        let process = try ServeProcess(
            ["serve", "--config", config, "--listen", "0.0.0.0:0", "--db", dir.file("db.sqlite")],
            environment: ["A_TOKEN": "secret"])
        _ = try await process.baseURL()
        #expect(process.stderr.contains("clear text"), "\(process.stderr)")
        #expect(await process.stop() == 0)
    }
}
