import Foundation

/// A parsed JSON value: what the guard reads of a JSON-RPC message, and what it writes back for the few messages it
/// answers itself. Messages it only relays are never re-serialised (their bytes pass unchanged).
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// A number that is an integer in the range of `Int64`, whatever its spelling (`1`, `1.0`, `1e0`).
    case integer(Int64)
    /// Any other number.
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses one JSON text; nil when it is not JSON.
    public init?(parsing bytes: some Collection<UInt8>) {
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes)) else { return nil }
        self = value
    }

    /// The member `name` of an object; nil for other values or a missing member.
    public subscript(name: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members[name]
    }

    public var string: String? {
        guard case .string(let text) = self else { return nil }
        return text
    }

    public var bool: Bool? {
        guard case .bool(let value) = self else { return nil }
        return value
    }

    public var array: [JSONValue]? {
        guard case .array(let items) = self else { return nil }
        return items
    }

    public var object: [String: JSONValue]? {
        guard case .object(let members) = self else { return nil }
        return members
    }

    /// The number as a `Double`, for durations and the like.
    public var number: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }
}

extension JSONValue: Decodable {
    public init(from decoder: any Decoder) throws {
        if var items = try? decoder.unkeyedContainer() {
            var values: [JSONValue] = []
            while !items.isAtEnd { values.append(try items.decode(JSONValue.self)) }
            self = .array(values)
            return
        }
        if let members = try? decoder.container(keyedBy: AnyKey.self) {
            var values: [String: JSONValue] = [:]
            for key in members.allKeys { values[key.stringValue] = try members.decode(JSONValue.self, forKey: key) }
            self = .object(values)
            return
        }
        let value = try decoder.singleValueContainer()
        if value.decodeNil() {
            self = .null
        } else if let flag = try? value.decode(Bool.self) {
            self = .bool(flag)
        } else if let integer = try? value.decode(Int64.self) {
            self = .integer(integer)
        } else if let number = try? value.decode(Double.self) {
            self = Self.normalised(number)
        } else {
            self = .string(try value.decode(String.self))
        }
    }

    /// An integral double within ±2^53 is the integer it spells: `1.0` and `1` are one number.
    static func normalised(_ number: Double) -> JSONValue {
        if number.rounded() == number, abs(number) <= 9_007_199_254_740_992 { return .integer(Int64(number)) }
        return .double(number)
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
