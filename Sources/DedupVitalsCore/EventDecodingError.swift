/// Why a request body could not be turned into events. Each case is one error of docs/reference/http-api.md#errors.
public enum EventDecodingError: Error, Equatable, Sendable {
    /// The body is not well-formed JSON / NDJSON. `line` and `column` are 1-based; the column counts bytes.
    case invalidJSON(message: String, line: Int, column: Int)
    /// The event at `index` (0-based, in body order) is well-formed but invalid; `field` names the culprit.
    case invalidEvent(message: String, index: Int, field: String?)
    /// The body holds more events than the per-request limit.
    case tooManyEvents(limit: Int)
}
