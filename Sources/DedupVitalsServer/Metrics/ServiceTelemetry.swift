import DedupVitalsCore
import DedupVitalsStorage
import Foundation

/// Where the service's measurements of itself are collected while it runs; ``snapshot()`` reads them (and the
/// file sizes and `/proc/self`) for one scrape.
public final class ServiceTelemetry: Sendable {
    let httpRequests = HTTPRequestMetrics()
    let ruleEvaluations = RuleEvaluationMetrics()
    let reloads = ReloadStatus()
    let commits: CommitStatistics
    let databasePath: String

    init(commits: CommitStatistics, databasePath: String) {
        self.commits = commits
        self.databasePath = databasePath
    }

    func snapshot() -> SelfMetrics {
        SelfMetrics(
            httpRequests: httpRequests.snapshot, commits: commits.snapshot, databaseBytes: Self.fileSize(databasePath),
            walBytes: Self.fileSize(databasePath + "-wal"), ruleEvaluationDuration: ruleEvaluations.duration.snapshot,
            ruleEvaluations: ruleEvaluations.evaluationCount, ruleEvaluationFailures: ruleEvaluations.failureCount,
            reload: reloads.snapshot, process: ProcessMetrics.current())
    }

    /// The size of a file in bytes; 0 when it does not exist (SQLite removes the WAL on a clean close).
    static func fileSize(_ path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }
}
