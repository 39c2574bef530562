/// What `GET /metrics` answers in: one of the text formats, or the Prometheus protobuf format
/// (`io.prometheus.client.MetricFamily` messages, varint-length-delimited), the only one that carries native
/// histograms and the one Prometheus asks for first when started with `--enable-feature=native-histograms`.
public enum ScrapeFormat: Sendable, Equatable {
    case exposition(ExpositionFormat)
    case protobuf

    public static let protobufContentType =
        "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"

    public var contentType: String {
        switch self {
        case .exposition(let format): format.contentType
        case .protobuf: Self.protobufContentType
        }
    }

    /// Content negotiation over the media ranges of an `Accept` header: the format of the highest `q` (the earliest
    /// among equals); the text format when the header names none of them or is missing. The protobuf format only
    /// when asked for by name with `proto=io.prometheus.client.MetricFamily` and `encoding=delimited` (never through
    /// `*/*`), so that no client gets binary it did not ask for.
    public init(accept: String?) {
        self = Self.negotiate(accept, offeringProtobuf: true)
    }

    static func negotiate(_ accept: String?, offeringProtobuf: Bool) -> ScrapeFormat {
        guard let accept else { return .exposition(.text) }
        var best: (format: ScrapeFormat, q: Double)?
        for part in accept.split(separator: ",") {
            let pieces = part.split(separator: ";").map { $0.filter { $0 != " " && $0 != "\t" }.lowercased() }
            guard let media = pieces.first else { continue }
            var q = 1.0
            var parameters: [Substring: Substring] = [:]
            for parameter in pieces.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1)
                guard pair.count == 2 else { continue }
                if pair[0] == "q" { q = Double(pair[1]) ?? 0 } else { parameters[pair[0]] = pair[1] }
            }
            let format: ScrapeFormat? =
                switch media {
                case "application/openmetrics-text": .exposition(.openMetrics)
                case "text/plain", "text/*", "*/*": .exposition(.text)
                case "application/vnd.google.protobuf"
                where offeringProtobuf && parameters["proto"] == "io.prometheus.client.metricfamily"
                    && parameters["encoding"] == "delimited":
                    .protobuf
                default: nil
                }
            guard let format, q > 0 else { continue }
            if best == nil || q > best!.q { best = (format, q) }
        }
        return best?.format ?? .exposition(.text)
    }
}
