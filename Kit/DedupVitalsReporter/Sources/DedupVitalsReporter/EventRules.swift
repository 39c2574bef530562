/// The field rules of `POST /v1/events` (README, "Events"), checked in `record` so that one bad event never costs
/// the batch it would have travelled in.
enum EventRules {
    /// Why an event cannot be sent; the message names the field.
    static func violation(in event: DecisionEvent) -> String? {
        guard isValidName(event.service) else { return "service must match [A-Za-z_][A-Za-z0-9_.-]{0,63}" }
        guard isValidName(event.operation) else { return "operation must match [A-Za-z_][A-Za-z0-9_.-]{0,63}" }
        if let key = event.key, !(1...255).contains(key.utf8.count) { return "key must be 1 to 255 bytes" }
        if let payload = event.payload, !(1...128).contains(payload.utf8.count) { return "payload must be 1 to 128 bytes" }
        if let client = event.client, !isValidName(client) { return "client must match [A-Za-z_][A-Za-z0-9_.-]{0,63}" }
        if let age = event.ageMs, age < 0 { return "age_ms must not be negative" }
        if let ts = event.timestamp, !ts.isFinite { return "timestamp must be finite" }
        return nil
    }

    /// `[A-Za-z_][A-Za-z0-9_.-]{0,63}`: the charset of service, operation and client names.
    static func isValidName(_ name: String) -> Bool {
        var count = 0
        for byte in name.utf8 {
            count += 1
            guard count <= 64 else { return false }
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "_"): continue
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "-"): if count == 1 { return false }
            default: return false
            }
        }
        return count > 0
    }
}

extension DecisionEvent {
    /// Whether `name` may be a service, operation or client name: `[A-Za-z_][A-Za-z0-9_.-]{0,63}`.
    public static func isValidName(_ name: String) -> Bool { EventRules.isValidName(name) }
}
