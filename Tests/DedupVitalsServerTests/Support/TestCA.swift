import Foundation

/// A certificate authority made for one test with the openssl CLI: a CA, server certificates for 127.0.0.1 and
/// localhost, and client certificates, all PEM files in a temporary directory.
struct TestCA {
    let dir: TemporaryDirectory
    var certificate: String { dir.file("ca.pem") }

    init(name: String = "dedup-vitals test CA") throws {
        dir = try TemporaryDirectory()
        try Self.openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", "/CN=\(name)", "-keyout", dir.file("ca.key"), "-out", dir.file("ca.pem"),
        ])
    }

    /// Issues `NAME.pem` and `NAME.key` for common name `commonName`; server certificates are valid for 127.0.0.1
    /// and localhost. Returns the certificate and key paths.
    @discardableResult
    func issue(_ name: String, commonName: String, server: Bool = true) throws -> (certificate: String, key: String) {
        let (certificate, key, request, extensions) = (
            dir.file("\(name).pem"), dir.file("\(name).key"), dir.file("\(name).csr"), dir.file("\(name).ext")
        )
        try Self.openssl([
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=\(commonName)",
            "-keyout", key, "-out", request,
        ])
        let usage =
            server
            ? "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n" : "extendedKeyUsage=clientAuth\n"
        try (usage + "basicConstraints=CA:FALSE\n").write(toFile: extensions, atomically: true, encoding: .utf8)
        try Self.openssl([
            "x509", "-req", "-in", request, "-CA", self.certificate, "-CAkey", dir.file("ca.key"), "-CAcreateserial",
            "-days", "2", "-extfile", extensions, "-out", certificate,
        ])
        return (certificate, key)
    }

    static func openssl(_ arguments: [String]) throws {
        let result = try run(["openssl"] + arguments)
        guard result.status == 0 else { throw TestFailure("openssl \(arguments.joined(separator: " ")): \(result.output)") }
    }

    /// Runs a command (looked up on PATH); its exit status and combined output.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
