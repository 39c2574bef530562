import DedupVitalsCore
import Foundation
import Logging
import Synchronization

/// What a successful reload reports.
public struct ReloadReport: Sendable, Equatable {
    /// Configuration keys that changed in the file but take effect only after a restart.
    public var restartRequired: [String]
}

extension DedupVitalsService {
    /// Re-reads the configuration file, every rule file and every secret (SIGHUP, `POST /-/reload`), all or
    /// nothing: when anything is invalid, the running configuration stays, every problem is logged as
    /// `file:line: message` and thrown. Otherwise the new configuration is in force for the next request,
    /// evaluation and delivery; alert instances of rules that stay keep their state, those of removed rules resolve
    /// at the next evaluation, and queued notifications stay queued.
    @discardableResult
    public func reload() throws(ConfigError) -> ReloadReport {
        do {
            let report = try reloading.withLock { count throws(ConfigError) -> ReloadReport in
                count += 1
                return try reloadLocked()
            }
            telemetry.reloads.recordSuccess()
            if report.restartRequired.isEmpty {
                logger.notice("configuration reloaded", metadata: ["rules": "\(live.current.rules.count)"])
            } else {
                logger.warning(
                    "configuration reloaded; some changes need a restart",
                    metadata: ["restart_required": "\(report.restartRequired.joined(separator: ","))"])
            }
            return report
        } catch {
            telemetry.reloads.recordFailure()
            logger.error(
                "configuration reload failed; the running configuration stays in force",
                metadata: ["problems": "\(error.problems.count)"])
            for problem in error.problems { logger.error("\(problem.description)") }
            throw error
        }
    }

    private func reloadLocked() throws(ConfigError) -> ReloadReport {
        guard let source = configurationSource else {
            throw ConfigError([
                ConfigProblem(
                    file: "configuration", line: 0,
                    message: "this service was not started from a configuration source and cannot reload")
            ])
        }
        let loaded = try source.load()
        let plan = try ReloadPlan.make(
            running: live.current, loaded: loaded, bucketHorizonMs: state.bucketHorizonMs, file: source.path ?? "configuration")
        live.replace(with: plan.applied)
        pipeline.seriesLimit.set(plan.applied.config.limits.maxSeries)
        alerting.receivers = plan.applied.config.receivers.map(\.name)
        return ReloadReport(restartRequired: plan.restartRequired)
    }
}
