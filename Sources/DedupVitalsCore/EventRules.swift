/// The field rules of docs/reference/events.md, shared by the event decoder and the configuration (label filters).
public enum EventRules {
    /// Longest accepted `service`, `operation` or `client` name.
    public static let maxNameLength = 64
    /// Accepted idempotency key length in UTF-8 bytes.
    public static let keyLengthRange = 1...255
    /// Accepted payload fingerprint length in UTF-8 bytes.
    public static let payloadLengthRange = 1...128
    /// How far in the past an event's `ts` may lie.
    public static let maxPastMs: Int64 = 3_600_000
    /// How far in the future an event's `ts` may lie.
    public static let maxFutureMs: Int64 = 300_000

    /// `[A-Za-z_][A-Za-z0-9_.-]{0,63}`: the service/operation/client charset. It also keeps label values safe.
    public static func isValidName<C: Collection<UInt8>>(_ bytes: C) -> Bool {
        // A native string's UTF-8 is contiguous: checked as a buffer, not through the string's index.
        bytes.withContiguousStorageIfAvailable { scan($0) } ?? scan(bytes)
    }

    @inline(__always)
    private static func scan<C: Collection<UInt8>>(_ bytes: C) -> Bool {
        guard !bytes.isEmpty, bytes.count <= maxNameLength else { return false }
        var first = true
        for b in bytes {
            let letter = (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F
            if first {
                guard letter else { return false }
                first = false
            } else {
                guard letter || (b >= 0x30 && b <= 0x39) || b == 0x2E || b == 0x2D else { return false }
            }
        }
        return true
    }

    public static func isValidName(_ name: String) -> Bool { isValidName(name.utf8) }
}
