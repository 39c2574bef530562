/// The two accepted ingest body encodings.
public enum BodyFormat: Sendable, Equatable {
    /// One event object, an array of events, or `{"events": [...]}`.
    case json
    /// One event object per line; blank lines are skipped.
    case ndjson

    /// Picks the format from a `Content-Type` value (a missing header means JSON); nil when the media type is not supported.
    public init?(contentType: String?) {
        guard let contentType else {
            self = .json
            return
        }
        // The usual value, without building strings (this runs once per ingest request).
        if contentType.utf8.elementsEqual("application/json".utf8) {
            self = .json
            return
        }
        let media = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        switch media.filter({ $0 != " " && $0 != "\t" }).lowercased() {
        case "application/json", "text/json": self = .json
        case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines": self = .ndjson
        default: return nil
        }
    }
}
