import DedupVitalsCore

/// Resolves receiver signing secrets from the environment or `secret_file`s, at start and on every reload.
public enum ReceiverSecrets {
    /// The signing key of every receiver that names a `secret_env`, by receiver name. A missing or empty variable,
    /// or a `whsec_` secret that is not base64, is a configuration error (exit 78). Secrets are never printed.
    public static func resolve(
        _ receivers: [ServiceConfig.Receiver], environment: [String: String], configFile: String
    ) throws(ConfigError) -> [String: [UInt8]] {
        var keys: [String: [UInt8]] = [:]
        var problems: [ConfigProblem] = []
        for receiver in receivers {
            let secret: String
            let origin: String
            if let file = receiver.secretFile {
                switch SecretFile.read(file) {
                case .success(let value): secret = value
                case .failure(let problem):
                    problems.append(ConfigProblem(file: file, line: 0, message: "receiver \(receiver.name): \(problem.message)"))
                    continue
                }
                origin = file
            } else if let variable = receiver.secretEnv {
                guard let value = environment[variable], !value.isEmpty else {
                    problems.append(
                        ConfigProblem(
                            file: configFile, line: 0,
                            message: "receiver \(receiver.name): environment variable \(variable) (secret_env) is not set"))
                    continue
                }
                secret = value
                origin = variable
            } else {
                continue
            }
            guard let key = WebhookSignature.key(fromSecret: secret), !key.isEmpty else {
                problems.append(
                    ConfigProblem(
                        file: configFile, line: 0,
                        message:
                            "receiver \(receiver.name): the secret in \(origin) starts with whsec_ but the rest is not base64"))
                continue
            }
            keys[receiver.name] = key
        }
        guard problems.isEmpty else { throw ConfigError(problems) }
        return keys
    }
}
