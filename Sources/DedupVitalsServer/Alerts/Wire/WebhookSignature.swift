import Crypto
import DedupVitalsCore

/// Standard Webhooks 1.0 signatures: `v1,` + base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}").
public enum WebhookSignature {
    /// The signing key of a secret: the base64-decoded part after `whsec_` for a secret written `whsec_...`, else
    /// the secret's UTF-8 bytes. nil when a `whsec_` secret is not valid base64.
    public static func key(fromSecret secret: String) -> [UInt8]? {
        if secret.hasPrefix("whsec_") { return Base64.decode(String(secret.dropFirst(6))) }
        return Array(secret.utf8)
    }

    /// The `webhook-signature` header value.
    public static func sign(id: String, timestamp: Int64, body: [UInt8], key: [UInt8]) -> String {
        var message = Array("\(id).\(timestamp).".utf8)
        message.append(contentsOf: body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key))
        return "v1," + Base64.encode(Array(mac))
    }

    /// Whether any `v1,` signature in a (space separated) `webhook-signature` header matches.
    public static func verify(header: String, id: String, timestamp: Int64, body: [UInt8], key: [UInt8]) -> Bool {
        let expected = Array(sign(id: id, timestamp: timestamp, body: body, key: key).utf8)
        return header.split(separator: " ").contains { candidate in
            let bytes = Array(candidate.utf8)
            guard bytes.count == expected.count else { return false }
            return zip(bytes, expected).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
        }
    }
}
