import Foundation
import Logging

// refund-demo serve | client: see Options.usage and README.md, "Instrumentation kit".
do {
    let options = try Options(Array(CommandLine.arguments.dropFirst()))
    switch options.command {
    case "serve":
        try options.rejectUnknown(["port", "dedup-vitals", "store", "work-ms", "failure-rate", "clients"])
        try await RefundService(
            port: options.int("port", default: 8080, in: 1...65535),
            dedupVitals: options.string("dedup-vitals", default: "http://127.0.0.1:9470"),
            store: options.string("store", default: "refund-keys.sqlite"),
            workMs: options.int("work-ms", default: 1500, in: 1...600_000),
            failureRate: options.fraction("failure-rate", default: 0.05),
            clients: options.int("clients", default: 0, in: 0...1000)
        ).run()
    default:
        try options.rejectUnknown(["url", "clients", "duration", "timeout-ms", "mismatch-rate"])
        var logger = Logger(label: "refund-client")
        logger.logLevel = .info
        try await RetryingClients(
            url: options.string("url", default: "http://127.0.0.1:8080"),
            clients: options.int("clients", default: 4, in: 1...1000),
            duration: .seconds(options.int("duration", default: 60, in: 1...86_400)),
            timeoutMs: options.int("timeout-ms", default: 1000, in: 1...600_000),
            mismatchRate: options.fraction("mismatch-rate", default: 0.02), logger: logger
        ).run()
    }
} catch let error as UsageError {
    FileHandle.standardError.write(Data("refund-demo: \(error.message)\n".utf8))
    exit(64)
} catch {
    FileHandle.standardError.write(Data("refund-demo: \(error)\n".utf8))
    exit(1)
}
