import ArgumentParser
import Foundation
import NIOCore
import NIOPosix

/// `dedup-vitals-load`: drives a live dedup-vitals over loopback and reports throughput, acknowledgement latency,
/// the service's RSS and, in the same run, its `GET /healthz` rate as the HTTP ceiling.
@main
struct LoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dedup-vitals-load",
        abstract: "End-to-end load generator for dedup-vitals (keep-alive HTTP/1.1 on SwiftNIO).")

    enum Mode: String, ExpressibleByArgument, CaseIterable {
        case ingest, otlp, healthz, metrics
    }

    enum Output: String, ExpressibleByArgument, CaseIterable {
        case text, row
    }

    @Option(help: "The service, HOST:PORT.")
    var target = "127.0.0.1:9470"

    @Option(
        help: "ingest (POST /v1/events, JSON), otlp (POST /v1/logs, the same events in OTLP protobuf), healthz or metrics (GET).")
    var mode = Mode.ingest

    @Option(help: "Concurrent keep-alive connections.")
    var connections = 32

    @Option(help: "Events per POST.")
    var batch = 1

    @Option(help: "Distinct series (service, operation) the events are spread over.")
    var series = 100

    @Option(help: "Distinct idempotency keys to cycle over (0: events carry no key; default: one per event of the request pool).")
    var keys: Int?

    @Option(
        help:
            "Distinct requests in the pool (default: enough to touch every series once, at least 64); with the default keys, pool × batch distinct keys."
    )
    var pool: Int?

    @Flag(help: "Every key of every request is new (with the default --keys: keys never come back).")
    var freshKeys = false

    @Option(help: "Callers (`client` c0, c1, …) the events are spread over; 0: events carry no client.")
    var clients = 0

    @Option(help: "Outcomes: cycle (3 miss, 3 completed, hit, in_flight) or retries (7 miss, 2 completed, a hit with age_ms).")
    var mix = PlannedEvent.Mix.cycle

    @Option(help: "The service name in the events.")
    var service = "bench"

    @Option(help: "Seconds measured.")
    var duration = 10.0

    @Option(help: "Seconds of load before measuring.")
    var warmup = 2.0

    @Option(help: "Send exactly this many requests (all counted) instead of running for a duration.")
    var requests: Int?

    @Option(help: "Seconds of GET /healthz on the same connections before the run, as the HTTP ceiling (0: skip).")
    var ceilingSeconds = 5.0

    @Option(help: "PID of the service, to report its resident memory.")
    var pid: Int32?

    @Option(help: "Event-loop threads of the generator.")
    var threads = 1

    @Option(name: .customLong("header"), help: "Extra request header, e.g. 'Authorization: Bearer x' (repeatable).")
    var headers: [String] = []

    @Option(help: "text, or row (one Markdown table row).")
    var output = Output.text

    func validate() throws {
        guard parsedTarget != nil else { throw ValidationError("--target must be HOST:PORT") }
        guard connections > 0, batch > 0, series > 0, threads > 0, duration > 0, warmup >= 0, ceilingSeconds >= 0 else {
            throw ValidationError("counts and durations must be positive")
        }
        if let requests, requests <= 0 { throw ValidationError("--requests must be positive") }
        if let keys, keys < 0 { throw ValidationError("--keys must be 0 or more") }
        if let pool, pool <= 0 { throw ValidationError("--pool must be positive") }
        if clients < 0 { throw ValidationError("--clients must be 0 or more") }
        if freshKeys, keys == 0 { throw ValidationError("--fresh-keys needs keys") }
    }

    var parsedTarget: (host: String, port: Int)? {
        guard let colon = target.lastIndex(of: ":"), let port = Int(target[target.index(after: colon)...]) else { return nil }
        return (String(target[..<colon]), port)
    }

    func run() throws {
        let (host, port) = parsedTarget!
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        defer { try? group.syncShutdownGracefully() }

        var ceiling: LoadPhase.Outcome?
        if ceilingSeconds > 0 {
            let healthz = RequestPlan.get("/healthz", host: target, headers: headers)
            ceiling = try phase(healthz, host: host, port: port, duration: ceilingSeconds, requests: nil).run(on: group)
        }
        let shape = RequestPlan.EventShape(
            series: series, keys: keys, freshKeys: freshKeys, clients: clients, mix: mix, service: service)
        let plan =
            switch mode {
            case .ingest: RequestPlan.ingest(batch: batch, shape: shape, pool: pool, host: target, headers: headers)
            case .otlp: RequestPlan.otlp(batch: batch, shape: shape, pool: pool, host: target, headers: headers)
            case .healthz: RequestPlan.get("/healthz", host: target, headers: headers)
            case .metrics: RequestPlan.get("/metrics", host: target, headers: headers)
            }
        let outcome = try phase(plan, host: host, port: port, duration: duration, requests: requests).run(on: group)
        let memory = pid.flatMap(ServiceMemory.read)

        let report = LoadReport(
            plan: plan, connections: connections, threads: threads, outcome: outcome, ceiling: ceiling, memory: memory)
        print(output == .row ? report.row : report.text)
        if outcome.result.failures > 0 || (ceiling?.result.failures ?? 0) > 0 {
            throw ExitCode.failure
        }
    }

    private func phase(_ plan: RequestPlan, host: String, port: Int, duration: Double, requests: Int?) -> LoadPhase {
        LoadPhase(
            host: host, port: port, connections: requests.map { min($0, connections) } ?? connections, plan: plan,
            warmup: warmup, duration: duration, requests: requests)
    }
}
extension PlannedEvent.Mix: ExpressibleByArgument {}
