import DedupVitalsStorage
import Logging

extension DedupVitalsService {
    /// The service of a loaded configuration; `source` is what a reload reads again.
    public convenience init(
        _ running: RunningConfiguration, source: ConfigurationSource?, logger: Logger,
        clock: @escaping @Sendable () -> Int64 = DedupVitalsService.systemClock
    ) throws(StorageError) {
        try self.init(
            config: running.config, logger: logger, clock: clock,
            alertingOptions: AlertingOptions(rules: running.rules, signingKeys: running.signingKeys),
            credentials: running.credentials, configurationSource: source, tlsContext: running.tlsContext)
    }
}
