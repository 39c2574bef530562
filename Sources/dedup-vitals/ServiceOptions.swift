import ArgumentParser
import DedupVitalsTerminal
import Foundation

/// `--url` of the commands that talk to a running service, and the client built from it.
struct ServiceOptions: ParsableArguments {
    @Option(name: .long, help: "The service's base URL.")
    var url = "http://127.0.0.1:9470"

    @Option(name: .long, help: "PEM file of the CA certificates to trust for an https --url (instead of the system's).")
    var cacert: String?

    func validate() throws {
        do {
            _ = try ServiceClient(baseURL: url, caFile: cacert)
        } catch {
            throw ValidationError("--url: \(error)")
        }
    }

    /// The client; sends `DEDUP_VITALS_TOKEN` as a bearer token when set.
    func client() throws -> ServiceClient {
        try ServiceClient(baseURL: url, token: ProcessInfo.processInfo.environment["DEDUP_VITALS_TOKEN"], caFile: cacert)
    }
}
