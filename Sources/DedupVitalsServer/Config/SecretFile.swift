import Foundation

/// A secret kept in a file (`token_file`, `secret_file`), as Prometheus' `*_file` settings: read at start and on
/// every reload, so that it can be rotated without a restart. Trailing line breaks are not part of the secret.
enum SecretFile {
    /// The secret, or why it cannot be used (the message never contains the file's content).
    static func read(_ path: String) -> Result<String, SecretFileProblem> {
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failure(.init(message: "cannot read \(path)"))
        }
        guard var text = String(data: data, encoding: .utf8) else { return .failure(.init(message: "\(path) is not UTF-8 text")) }
        while let last = text.last, last == "\n" || last == "\r" || last == "\r\n" { text.removeLast() }
        guard !text.isEmpty else { return .failure(.init(message: "\(path) is empty")) }
        return .success(text)
    }
}

struct SecretFileProblem: Error {
    var message: String
}
