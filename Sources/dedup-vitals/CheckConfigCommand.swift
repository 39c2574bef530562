import ArgumentParser
import DedupVitalsServer

/// `dedup-vitals check-config FILE`: reports every problem with file and line; exit 0 when valid, 78 otherwise.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration file and the rule files it names."
    )

    @Argument(help: "The configuration file.")
    var file: String

    func run() throws {
        do {
            _ = try ConfigLoader.load(path: file)
            print("\(file): configuration is valid")
        } catch {
            for problem in error.problems { printError(problem.description) }
            throw ExitCodes.configuration
        }
    }
}
