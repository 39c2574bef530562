/// The Alertmanager/Prometheus label-set fingerprint: FNV-1a 64 over the sorted label names and values, each
/// followed by the byte 0xFF, printed as 16 lowercase hex digits.
public enum AlertFingerprint {
    public static func of(_ labels: [String: String]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func add(_ text: String) {
            for byte in text.utf8 {
                hash ^= UInt64(byte)
                hash &*= 0x0000_0100_0000_01b3
            }
            hash ^= 0xFF
            hash &*= 0x0000_0100_0000_01b3
        }
        for name in labels.keys.sorted() {
            add(name)
            add(labels[name]!)
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
