import Foundation

/// The response remembered for an ingest `Idempotency-Key`, replayed to retries.
public struct StoredResponse: Sendable, Equatable {
    public var bodySHA256: Data
    public var status: Int
    public var body: Data

    public init(bodySHA256: Data, status: Int, body: Data) {
        self.bodySHA256 = bodySHA256
        self.status = status
        self.body = body
    }
}

/// An idempotency record to commit together with its batch.
public struct IdempotencyRecord: Sendable, Equatable {
    public var scope: String
    public var key: String
    public var response: StoredResponse

    public init(scope: String, key: String, response: StoredResponse) {
        self.scope = scope
        self.key = key
        self.response = response
    }
}
