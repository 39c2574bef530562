import ArgumentParser
import DedupVitalsCore
import DedupVitalsTerminal
import Foundation

extension TrafficScenario: ExpressibleByArgument {}

/// `dedup-vitals simulate`: realistic synthetic traffic for demos, docs and load tests.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Send realistic synthetic traffic to a running service.",
        discussion: "Scenarios:\n"
            + TrafficScenario.allCases.map { "  \($0.rawValue.padding(toLength: 18, withPad: " ", startingAt: 0))\($0.summary)" }
            .joined(separator: "\n")
    )

    @OptionGroup var service: ServiceOptions

    @Option(name: .long, help: "The traffic pattern (see Scenarios above).")
    var scenario = TrafficScenario.steady

    @Option(name: .long, help: "How long to send, in seconds.")
    var duration = 60.0

    @Option(name: .long, help: "Events per second, on average.")
    var rate = 200.0

    @Option(name: .long, help: "Most events per request.")
    var batchSize = 500

    @Option(name: .long, help: "Random seed: the same seed gives the same traffic.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Copies of the simulated fleet; with more than one, copy N's services are named <service>-N.")
    var fleets = 1

    func validate() throws {
        guard duration > 0, duration <= 86_400 else { throw ValidationError("--duration must be between 0 and 86400 seconds") }
        guard rate > 0, rate <= 1_000_000 else { throw ValidationError("--rate must be between 0 and 1000000 events per second") }
        guard (1...10_000).contains(batchSize) else { throw ValidationError("--batch-size must be between 1 and 10000") }
        guard (1...1000).contains(fleets) else { throw ValidationError("--fleets must be between 1 and 1000") }
    }

    func run() async throws {
        let client = try service.client()
        let runner = SimulationRunner(
            client: client, scenario: scenario, ratePerSecond: rate, durationSeconds: duration, batchSize: batchSize, seed: seed,
            fleets: fleets)
        let report = await runner.run()
        print(report.line(scenario: scenario))
        if report.accepted == 0 {
            printError("no events were accepted" + (report.lastError.map { ": \($0)" } ?? ""))
            throw ExitCodes.failure
        }
    }
}
