/// The two exposition formats of `GET /metrics`.
public enum ExpositionFormat: Sendable, Equatable {
    /// Prometheus text format 0.0.4.
    case text
    /// OpenMetrics 1.0.0.
    case openMetrics

    public var contentType: String {
        switch self {
        case .text: "text/plain; version=0.0.4; charset=utf-8"
        case .openMetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8"
        }
    }

    /// Content negotiation between the two text formats: OpenMetrics when the `Accept` header gives it a higher (or
    /// equal, but earlier) preference than the text format; the text format otherwise, including when the header is
    /// missing. ``ScrapeFormat/init(accept:)`` also offers the protobuf format.
    public init(accept: String?) {
        guard case .exposition(let format) = ScrapeFormat.negotiate(accept, offeringProtobuf: false) else {
            preconditionFailure("protobuf was not offered")
        }
        self = format
    }
}
