/// Why an OTLP logs request could not be read at all (the whole request is refused; a decision record that is
/// merely invalid is rejected on its own, see ``DecisionConvention``).
public enum OTLPDecodingError: Error, Sendable, Equatable {
    /// The body is not a well-formed `ExportLogsServiceRequest` in its encoding.
    case malformed(String)
    /// More decision records than the per-request limit.
    case tooManyDecisions(limit: Int)
}
