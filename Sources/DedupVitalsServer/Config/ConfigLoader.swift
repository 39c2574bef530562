import DedupVitalsCore
import DedupVitalsStorage
import Foundation
import Yams

/// Reads and validates the YAML configuration of docs/reference/configuration.md.
public enum ConfigLoader {
    static let topLevelKeys: Set<String> = [
        "listen", "otlp_listen", "database", "windows", "retention", "evaluation_interval", "repeat_interval", "dedup_window",
        "stale_in_flight_after", "idempotency_key_ttl", "synchronous", "fold_interval", "limits", "max_tracked_keys",
        "max_clients_per_series", "narrow_key_threshold", "narrow_key_span", "auth", "rule_files", "receivers",
        "metrics_token_env", "tls", "metrics",
    ]

    /// Loads the configuration file at `path`. Relative `rule_files` are resolved against the file's folder.
    public static func load(path: String) throws(ConfigError) -> ServiceConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError([ConfigProblem(file: path, line: 0, message: "cannot read the file")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError([ConfigProblem(file: path, line: 0, message: "the file is not UTF-8 text")])
        }
        let (config, problems) = parse(text, file: path)
        guard problems.isEmpty else { throw ConfigError(problems) }
        return config
    }

    /// Parses configuration text; returns the configuration built from the valid parts and every problem found.
    public static func parse(_ text: String, file: String) -> (ServiceConfig, [ConfigProblem]) {
        var reader = YAMLReader(file: file)
        var config = ServiceConfig()
        guard let root = reader.parse(text), let entries = reader.mapping(root, "configuration", allowed: topLevelKeys) else {
            return (config, reader.problems)
        }
        let directory = (file as NSString).deletingLastPathComponent

        if let node = entries["listen"], let text = reader.string(node, "listen") {
            if let address = ServiceConfig.ListenAddress(text) {
                config.listen = address
            } else {
                reader.problem(node, "listen: \"\(text)\" is not HOST:PORT")
            }
        }
        if let node = entries["otlp_listen"], let text = reader.string(node, "otlp_listen") {
            if let address = ServiceConfig.ListenAddress(text) {
                config.otlpListen = address
            } else {
                reader.problem(node, "otlp_listen: \"\(text)\" is not HOST:PORT")
            }
        }
        if let node = entries["database"], let path = reader.string(node, "database") { config.database = path }
        if let node = entries["windows"], let items = reader.sequence(node, "windows") {
            var windows: [PromDuration] = []
            for item in items {
                guard let window = reader.duration(item, "windows[]") else { continue }
                if window.milliseconds % BucketClock.defaultWidthMs != 0 {
                    reader.problem(item, "windows: \(window) is not a multiple of the 10s bucket")
                } else if windows.contains(window) {
                    reader.problem(item, "windows: \(window) is listed twice")
                } else {
                    windows.append(window)
                }
            }
            if items.isEmpty { reader.problem(node, "windows must list at least one window") }
            if !windows.isEmpty { config.windows = windows }
        }
        func duration(_ key: String, _ apply: (PromDuration) -> Void) {
            if let node = entries[key], let value = reader.duration(node, key) { apply(value) }
        }
        duration("retention") { config.retention = $0 }
        duration("evaluation_interval") { config.evaluationInterval = $0 }
        duration("repeat_interval") { config.repeatInterval = $0 }
        duration("dedup_window") { config.dedupWindow = $0 }
        duration("stale_in_flight_after") { config.staleInFlightAfter = $0 }
        duration("idempotency_key_ttl") { config.idempotencyKeyTTL = $0 }
        duration("narrow_key_span") { config.narrowKeySpan = $0 }
        duration("fold_interval") { config.foldInterval = $0 }
        if let node = entries["fold_interval"], config.foldInterval < .init(milliseconds: 10) || .minutes(1) < config.foldInterval
        {
            reader.problem(node, "fold_interval must be between 10ms and 1m")
        }
        if let node = entries["max_tracked_keys"], let value = reader.integer(node, "max_tracked_keys", in: 1...100_000_000) {
            config.maxTrackedKeys = value
        }
        if let node = entries["max_clients_per_series"],
            let value = reader.integer(node, "max_clients_per_series", in: 1...10_000)
        {
            config.maxClientsPerSeries = value
        }
        if let node = entries["narrow_key_threshold"], let value = reader.integer(node, "narrow_key_threshold", in: 2...1000) {
            config.narrowKeyThreshold = value
        }
        if let node = entries["retention"], let largest = config.windows.max(), config.retention < largest {
            reader.problem(node, "retention (\(config.retention)) must be at least the largest window (\(largest))")
        }
        if let node = entries["idempotency_key_ttl"], config.idempotencyKeyTTL < .hours(24) {
            reader.problem(node, "idempotency_key_ttl must be at least 24h")
        }
        if let node = entries["synchronous"], let text = reader.string(node, "synchronous") {
            if let value = ServiceConfig.Synchronous(rawValue: text) {
                config.synchronous = value
            } else {
                reader.problem(node, "synchronous must be normal or full")
            }
        }
        if let node = entries["limits"] {
            parseLimits(node, into: &config.limits, reader: &reader)
        }
        if let node = entries["auth"] {
            config.tokens = parseAuth(node, reader: &reader).map { token in
                var token = token
                token.tokenFile = token.tokenFile.map { resolve($0, against: directory) }
                return token
            }
        }
        if let node = entries["metrics_token_env"], let env = reader.string(node, "metrics_token_env") {
            if !isEnvironmentVariableName(env) {
                reader.problem(node, "metrics_token_env \"\(env)\" is not an environment variable name")
            }
            config.metricsTokenEnv = env
        }
        if let node = entries["metrics"] {
            config.metrics = parseMetrics(node, windows: config.windows, reader: &reader)
        }
        if let node = entries["tls"] {
            config.tls = parseTLS(node, reader: &reader).map { tls in
                var tls = tls
                tls.certFile = resolve(tls.certFile, against: directory)
                tls.keyFile = resolve(tls.keyFile, against: directory)
                tls.clientCAFile = tls.clientCAFile.map { resolve($0, against: directory) }
                return tls
            }
        }
        if let node = entries["rule_files"], let files = reader.stringList(node, "rule_files") {
            config.ruleFiles = files.map { resolve($0, against: directory) }
        }
        if let node = entries["receivers"] {
            config.receivers = parseReceivers(node, reader: &reader).map { receiver in
                var receiver = receiver
                receiver.secretFile = receiver.secretFile.map { resolve($0, against: directory) }
                return receiver
            }
        }
        return (config, reader.problems)
    }

    /// Resolves a path relative to the configuration file's folder.
    static func resolve(_ path: String, against directory: String) -> String {
        if path.hasPrefix("/") || directory.isEmpty { return path }
        return (directory as NSString).appendingPathComponent(path)
    }

    private static func parseLimits(_ node: Node, into limits: inout ServiceConfig.Limits, reader: inout YAMLReader) {
        let allowed: Set<String> = [
            "max_body_bytes", "max_events_per_request", "max_series", "body_read_timeout", "max_in_flight_bytes",
            "max_in_flight_requests",
        ]
        guard let entries = reader.mapping(node, "limits", allowed: allowed) else { return }
        if let node = entries["max_body_bytes"], let value = reader.integer(node, "limits.max_body_bytes", in: 1024...(1 << 30)) {
            limits.maxBodyBytes = value
        }
        if let node = entries["max_events_per_request"],
            let value = reader.integer(node, "limits.max_events_per_request", in: 1...1_000_000)
        {
            limits.maxEventsPerRequest = value
        }
        if let node = entries["max_series"], let value = reader.integer(node, "limits.max_series", in: 1...10_000_000) {
            limits.maxSeries = value
        }
        if let node = entries["body_read_timeout"], let value = reader.duration(node, "limits.body_read_timeout") {
            limits.bodyReadTimeout = value
        }
        if let node = entries["max_in_flight_requests"],
            let value = reader.integer(node, "limits.max_in_flight_requests", in: 1...100_000)
        {
            limits.maxInFlightRequests = value
        }
        if let node = entries["max_in_flight_bytes"],
            let value = reader.integer(node, "limits.max_in_flight_bytes", in: 1024...(1 << 40))
        {
            limits.maxInFlightBytes = value
        }
        if limits.maxInFlightBytes < limits.maxBodyBytes {
            reader.problem(
                entries["max_in_flight_bytes"] ?? node,
                "limits.max_in_flight_bytes (\(limits.maxInFlightBytes)) must be at least max_body_bytes (\(limits.maxBodyBytes))"
            )
        }
    }

    private static func parseAuth(_ node: Node, reader: inout YAMLReader) -> [ServiceConfig.Token] {
        guard let entries = reader.mapping(node, "auth", allowed: ["tokens"]), let tokensNode = entries["tokens"],
            let items = reader.sequence(tokensNode, "auth.tokens")
        else { return [] }
        var tokens: [ServiceConfig.Token] = []
        for item in items {
            guard
                let fields = reader.mapping(
                    item, "auth.tokens[]", allowed: ["name", "token_env", "token_file", "services", "rate_limit", "admin"])
            else {
                continue
            }
            guard let nameNode = fields["name"], let name = reader.string(nameNode, "auth.tokens[].name") else {
                if fields["name"] == nil { reader.problem(item, "auth.tokens[]: name is required") }
                continue
            }
            var env = ""
            var tokenFile: String?
            switch (fields["token_env"], fields["token_file"]) {
            case (nil, nil):
                reader.problem(item, "auth.tokens[] \(name): token_env or token_file is required")
                continue
            case (.some(let envNode), nil):
                guard let value = reader.string(envNode, "auth.tokens[].token_env") else { continue }
                if !isEnvironmentVariableName(value) {
                    reader.problem(envNode, "auth.tokens[] \(name): token_env \"\(value)\" is not an environment variable name")
                }
                env = value
            case (nil, .some(let fileNode)):
                guard let value = reader.string(fileNode, "auth.tokens[].token_file") else { continue }
                tokenFile = value
            case (.some(let envNode), .some):
                reader.problem(envNode, "auth.tokens[] \(name): give token_env or token_file, not both")
                continue
            }
            var services: [String]?
            if let node = fields["services"], let list = reader.stringList(node, "auth.tokens[].services") {
                for service in list where !EventRules.isValidName(service) {
                    reader.problem(node, "auth.tokens[] \(name): \"\(service)\" is not a valid service name")
                }
                services = list
            }
            let rateLimit = fields["rate_limit"].flatMap { parseRateLimit($0, token: name, reader: &reader) }
            let admin = fields["admin"].flatMap { reader.bool($0, "auth.tokens[] \(name): admin") } ?? false
            if tokens.contains(where: { $0.name == name }) {
                reader.problem(nameNode, "auth.tokens: name \"\(name)\" is used twice")
            }
            var token = ServiceConfig.Token(name: name, tokenEnv: env, services: services, rateLimit: rateLimit, admin: admin)
            token.tokenFile = tokenFile
            tokens.append(token)
        }
        return tokens
    }

    /// `rate_limit: {events_per_second, burst}`; `burst` defaults to one second's worth (at least 1).
    private static func parseRateLimit(_ node: Node, token: String, reader: inout YAMLReader) -> ServiceConfig.RateLimit? {
        let context = "auth.tokens[] \(token): rate_limit"
        guard let fields = reader.mapping(node, context, allowed: ["events_per_second", "burst"]) else { return nil }
        guard let rateNode = fields["events_per_second"] else {
            reader.problem(node, "\(context): events_per_second is required")
            return nil
        }
        guard let rate = reader.number(rateNode, "\(context).events_per_second") else { return nil }
        guard rate.isFinite, rate > 0 else {
            reader.problem(rateNode, "\(context).events_per_second must be a positive number")
            return nil
        }
        var burst = max(1, Int(rate.rounded(.up)))
        if let burstNode = fields["burst"] {
            guard let value = reader.integer(burstNode, "\(context).burst", in: 1...100_000_000) else { return nil }
            burst = value
        }
        return ServiceConfig.RateLimit(eventsPerSecond: rate, burst: burst)
    }

    /// `tls: {cert_file, key_file, client_ca_file, min_version}`; the files themselves are read by the service.
    private static func parseTLS(_ node: Node, reader: inout YAMLReader) -> ServiceConfig.TLS? {
        guard let fields = reader.mapping(node, "tls", allowed: ["cert_file", "key_file", "client_ca_file", "min_version"]) else {
            return nil
        }
        var files: [String: String] = [:]
        for key in ["cert_file", "key_file", "client_ca_file"] {
            if let valueNode = fields[key], let value = reader.string(valueNode, "tls.\(key)") { files[key] = value }
        }
        var minVersion = ServiceConfig.TLS.Version.tls12
        if let versionNode = fields["min_version"], let text = reader.string(versionNode, "tls.min_version") {
            if let version = ServiceConfig.TLS.Version(rawValue: text) {
                minVersion = version
            } else {
                reader.problem(versionNode, "tls.min_version must be TLS12 or TLS13")
            }
        }
        guard let cert = files["cert_file"], let key = files["key_file"] else {
            reader.problem(node, "tls: cert_file and key_file are required")
            return nil
        }
        return ServiceConfig.TLS(certFile: cert, keyFile: key, clientCAFile: files["client_ca_file"], minVersion: minVersion)
    }

    private static func parseReceivers(_ node: Node, reader: inout YAMLReader) -> [ServiceConfig.Receiver] {
        guard let items = reader.sequence(node, "receivers") else { return [] }
        var receivers: [ServiceConfig.Receiver] = []
        for item in items {
            guard
                let fields = reader.mapping(
                    item, "receivers[]", allowed: ["name", "url", "secret_env", "secret_file", "send_resolved", "kind"])
            else {
                continue
            }
            guard let nameNode = fields["name"], let name = reader.string(nameNode, "receivers[].name") else {
                if fields["name"] == nil { reader.problem(item, "receivers[]: name is required") }
                continue
            }
            guard let urlNode = fields["url"], let url = reader.string(urlNode, "receivers[].url") else {
                if fields["url"] == nil { reader.problem(item, "receivers[] \(name): url is required") }
                continue
            }
            if let problem = urlProblem(url) { reader.problem(urlNode, "receivers[] \(name): \(problem)") }
            var receiver = ServiceConfig.Receiver(name: name, url: url)
            if let node = fields["secret_env"], let env = reader.string(node, "receivers[].secret_env") {
                if !isEnvironmentVariableName(env) {
                    reader.problem(node, "receivers[] \(name): secret_env \"\(env)\" is not an environment variable name")
                }
                receiver.secretEnv = env
            }
            if let node = fields["secret_file"], let path = reader.string(node, "receivers[].secret_file") {
                if receiver.secretEnv != nil {
                    reader.problem(node, "receivers[] \(name): give secret_env or secret_file, not both")
                }
                receiver.secretFile = path
            }
            if let node = fields["send_resolved"], let value = reader.bool(node, "receivers[].send_resolved") {
                receiver.sendResolved = value
            }
            if let node = fields["kind"], let text = reader.string(node, "receivers[].kind") {
                if let kind = ServiceConfig.Receiver.Kind(rawValue: text) {
                    receiver.kind = kind
                } else {
                    reader.problem(node, "receivers[] \(name): kind must be webhook or alertmanager")
                }
            }
            if receivers.contains(where: { $0.name == name }) {
                reader.problem(nameNode, "receivers: name \"\(name)\" is used twice")
            }
            receivers.append(receiver)
        }
        return receivers
    }

    /// Why a receiver URL is unusable, or nil when it is fine (absolute http or https with a host).
    static func urlProblem(_ text: String) -> String? {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            return "url \"\(text)\" is not a valid URL"
        }
        guard scheme == "http" || scheme == "https" else { return "url must use http or https" }
        guard let host = components.host, !host.isEmpty else { return "url has no host" }
        guard components.user == nil, components.password == nil else {
            return "url must not carry credentials (use secret_env)"
        }
        return nil
    }

    static func isEnvironmentVariableName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(0x30...0x39).contains(first) else { return false }
        return name.utf8.allSatisfy {
            ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F
        }
    }
}
