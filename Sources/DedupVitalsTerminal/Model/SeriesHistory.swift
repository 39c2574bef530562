/// The body of `GET /v1/series`: one point per step, oldest first.
public struct SeriesHistory: Decodable, Sendable, Equatable {
    public struct Point: Decodable, Sendable, Equatable {
        /// RFC 3339 start of the step.
        public var start: String
        public var counts: WindowCounts

        public init(start: String, counts: WindowCounts) {
            self.start = start
            self.counts = counts
        }

        enum CodingKeys: String, CodingKey {
            case start
        }

        public init(from decoder: any Decoder) throws {
            start = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .start)
            counts = try WindowCounts(from: decoder)
        }
    }

    public var service: String
    public var operation: String
    public var window: String
    public var step: String
    public var points: [Point]

    public init(service: String, operation: String, window: String, step: String, points: [Point]) {
        self.service = service
        self.operation = operation
        self.window = window
        self.step = step
        self.points = points
    }
}
