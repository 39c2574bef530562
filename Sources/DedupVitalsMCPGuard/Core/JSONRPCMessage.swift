/// What the guard needs to know of one JSON-RPC 2.0 message (one line of the stdio transport).
public enum JSONRPCMessage: Sendable, Equatable {
    case request(id: JSONValue, method: String, params: JSONValue?)
    case notification(method: String, params: JSONValue?)
    /// A result or an error, for the request `id`.
    case response(id: JSONValue, result: JSONValue?, error: JSONValue?)
    /// JSON that is not one JSON-RPC message: a batch (an array), or an object without `method`, `result` or `error`.
    /// Relayed as it is.
    case other

    /// Classifies one line; nil when it is not JSON at all (malformed: logged and relayed as it is).
    public init?(line: some Collection<UInt8>) {
        guard let value = JSONValue(parsing: line) else { return nil }
        self.init(value)
    }

    public init(_ value: JSONValue) {
        guard case .object(let members) = value else {
            self = .other
            return
        }
        let id = members["id"].flatMap { $0 == .null ? nil : $0 }
        if let method = members["method"]?.string {
            if let id {
                self = .request(id: id, method: method, params: members["params"])
            } else {
                self = .notification(method: method, params: members["params"])
            }
        } else if let id, members["result"] != nil || members["error"] != nil {
            self = .response(id: id, result: members["result"], error: members["error"])
        } else {
            self = .other
        }
    }
}
