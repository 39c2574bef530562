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

    /// Content negotiation: OpenMetrics when the `Accept` header gives it a higher (or equal, but earlier) preference
    /// than the text format; the text format otherwise, including when the header is missing.
    public init(accept: String?) {
        guard let accept else {
            self = .text
            return
        }
        var best: (format: ExpositionFormat, q: Double)?
        for part in accept.split(separator: ",") {
            let pieces = part.split(separator: ";").map { $0.filter { $0 != " " && $0 != "\t" }.lowercased() }
            guard let media = pieces.first else { continue }
            var q = 1.0
            for parameter in pieces.dropFirst() where parameter.hasPrefix("q=") {
                q = Double(parameter.dropFirst(2)) ?? 0
            }
            let format: ExpositionFormat? =
                switch media {
                case "application/openmetrics-text": .openMetrics
                case "text/plain", "text/*", "*/*": .text
                default: nil
                }
            guard let format, q > 0 else { continue }
            if best == nil || q > best!.q { best = (format, q) }
        }
        self = best?.format ?? .text
    }
}
