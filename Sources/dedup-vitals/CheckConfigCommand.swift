import ArgumentParser
import DedupVitalsServer

/// `dedup-vitals check-config FILE`: reports every problem of the configuration and of the rule files it names, with
/// file and line; exit 0 when valid, 78 otherwise.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration file and the rule files it names."
    )

    @Argument(help: "The configuration file.")
    var file: String

    func run() throws {
        let (config, rules, problems) = AlertRuleLoader.checkConfigFile(file)
        guard problems.isEmpty else {
            for problem in problems { printError(problem.description) }
            throw ExitCodes.configuration
        }
        let source = config.ruleFiles.isEmpty ? "built-in default rules" : "\(config.ruleFiles.count) rule file(s)"
        print("\(file): configuration is valid (\(rules.count) alert rules from \(source))")
    }
}
