import DedupVitalsCore

/// What a reload may change while the service runs, decided before anything is applied.
///
/// Live: rules, receivers and their secrets, tokens and their scopes, the metrics token, limits, windows, retention,
/// the idempotency-key TTL, the evaluation, repeat and fold intervals, and the TLS certificate, key and client CA. Restart
/// only: the listen addresses, the database and its durability, turning TLS on or off, and the key-forensics settings (the in-memory key table is built with them); a change to
/// one of those is reported, and the running value stays in force until a restart.
struct ReloadPlan: Sendable {
    /// The configuration to put in force: the new one, with the running values of the restart-only settings.
    var applied: RunningConfiguration
    /// The restart-only settings whose value in the files differs from the running one (configuration keys).
    var restartRequired: [String]

    /// - Parameters:
    ///   - bucketHorizonMs: how far back the in-memory buckets reach; a window or rule that reads further cannot
    ///     be served without a restart, and makes the reload fail.
    ///   - file: where problems are reported.
    static func make(
        running: RunningConfiguration, loaded: RunningConfiguration, bucketHorizonMs: Int64, file: String
    ) throws(ConfigError) -> ReloadPlan {
        let old = running.config
        var new = loaded.config
        var restartRequired: [String] = []
        func keep<Value: Equatable>(_ key: String, _ path: WritableKeyPath<ServiceConfig, Value>) {
            guard new[keyPath: path] != old[keyPath: path] else { return }
            restartRequired.append(key)
            new[keyPath: path] = old[keyPath: path]
        }
        keep("listen", \.listen)
        keep("otlp_listen", \.otlpListen)
        keep("database", \.database)
        keep("synchronous", \.synchronous)
        keep("dedup_window", \.dedupWindow)
        keep("stale_in_flight_after", \.staleInFlightAfter)
        keep("max_tracked_keys", \.maxTrackedKeys)
        keep("max_clients_per_series", \.maxClientsPerSeries)
        keep("narrow_key_threshold", \.narrowKeyThreshold)
        keep("narrow_key_span", \.narrowKeySpan)
        // Certificates, keys and the client CA are re-read; turning TLS on or off changes the listener.
        var tlsContext = loaded.tlsContext
        if (new.tls == nil) != (old.tls == nil) {
            restartRequired.append("tls")
            new.tls = old.tls
            tlsContext = running.tlsContext
        }

        let longest = (new.windows + loaded.rules.flatMap(\.windows) + [.hours(1)]).max()!
        let needed = min(longest.milliseconds + BucketClock.defaultWidthMs, new.retention.milliseconds)
        if needed > bucketHorizonMs {
            let kept = PromDuration(milliseconds: bucketHorizonMs - BucketClock.defaultWidthMs)
            throw ConfigError([
                ConfigProblem(
                    file: file, line: 0,
                    message:
                        "windows and rules read up to \(longest), more than the \(kept) of buckets kept in memory since the service started; restart to use them"
                )
            ])
        }
        var applied = loaded
        applied.config = new
        applied.tlsContext = tlsContext
        return ReloadPlan(applied: applied, restartRequired: restartRequired)
    }
}
