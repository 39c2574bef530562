import HTTPTypes
import Hummingbird

/// What makes two requests "the same request" for a key: method, path with query, the chosen headers and the body,
/// as a SHA-256 digest. Fields are length-prefixed so that no two different requests share an input.
enum RequestFingerprint {
    static func compute(_ request: Request, body: ByteBuffer, headers: [HTTPField.Name]) -> String {
        var hasher = SHA256()
        func field(_ bytes: some Collection<UInt8>) {
            hasher.update(String(bytes.count).utf8)
            hasher.update(CollectionOfOne(UInt8(ascii: ":")))
            hasher.update(bytes)
        }
        field(request.method.rawValue.utf8)
        field((request.head.path ?? "").utf8)
        for name in headers {
            field(name.canonicalName.utf8)
            field(request.headers[values: name].joined(separator: ", ").utf8)
        }
        field(body.readableBytesView)
        return hasher.finalizeHex()
    }

    /// SHA-256 of a string, as hex: the reported key when caller and key together exceed what dedup-vitals takes.
    static func digest(_ text: String) -> String {
        var hasher = SHA256()
        hasher.update(text.utf8)
        return hasher.finalizeHex()
    }
}
