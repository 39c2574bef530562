import CHMACSHA256
import Crypto
import DedupVitalsCore
import Testing

@Suite("Key hashing: HMAC-SHA-256 with prepared states")
struct KeyHasherTests {
    /// The C module's prepared states for `secret`, with the SHA extensions where the CPU has them, or without.
    static func prepared(secret: [UInt8], shani: Bool) -> dv_hmac_sha256_key {
        var key = dv_hmac_sha256_key()
        secret.withUnsafeBufferPointer { dv_hmac_sha256_init(&key, $0.baseAddress, $0.count) }
        dv_hmac_sha256_use_shani(&key, shani ? 1 : 0)
        return key
    }

    /// HMAC-SHA-256 through the C module, for any secret and message.
    static func hmac(secret: [UInt8], message: [UInt8], shani: Bool = true) -> [UInt8] {
        var key = prepared(secret: secret, shani: shani)
        var out = [UInt8](repeating: 0, count: 32)
        message.withUnsafeBufferPointer { message in
            out.withUnsafeMutableBufferPointer { dv_hmac_sha256(&key, message.baseAddress, message.count, $0.baseAddress) }
        }
        return out
    }

    /// Two HMAC-SHA-256 computed together through the C module.
    static func hmacPair(secret: [UInt8], _ a: [UInt8], _ b: [UInt8], shani: Bool) -> ([UInt8], [UInt8]) {
        var key = prepared(secret: secret, shani: shani)
        var outA = [UInt8](repeating: 0, count: 32)
        var outB = [UInt8](repeating: 0, count: 32)
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                outA.withUnsafeMutableBufferPointer { outA in
                    outB.withUnsafeMutableBufferPointer { outB in
                        dv_hmac_sha256_pair(
                            &key, a.baseAddress, a.count, outA.baseAddress, b.baseAddress, b.count, outB.baseAddress)
                    }
                }
            }
        }
        return (outA, outB)
    }

    static func randomBytes(_ count: Int, using generator: inout some RandomNumberGenerator) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined() }

    /// A batch hashes keys and payloads through the hasher's states (``KeyHasher/withStates(_:)``): the same hashes
    /// as the hasher's own, which the key lookup endpoint computes. Keys without a payload are hashed two at a time, a
    /// key with one together with it: every batch size, with keys without payloads in odd and even numbers and events
    /// without keys among them.
    @Test func aBatchHashesKeysAndPayloadsAsTheHasherDoes() {
        let hasher = KeyHasher(secret: Array(repeating: 7, count: 32))
        for count in 1...30 {
            let events = (0..<count).map { n in
                Event(
                    service: "payments", operation: "refund\(n % 3)", outcome: .miss,
                    key: n % 7 == 6 ? nil : "key-\(n)-0123456789abcdef",
                    payload: n % 3 == 0 ? "payload-\(n)" : nil, timeMs: 1_800_000_000_000, ageMs: n % 7 == 6 ? 250 : nil)
            }
            let delta = BatchDelta(events: events, receivedAtMs: 1_800_000_000_000, bucketWidthMs: 10_000, hasher: hasher)
            #expect(delta.forensicEvents.count == events.count)
            for (event, forensic) in zip(events, delta.forensicEvents) {
                #expect(forensic.key == event.key.map { hasher.hashKey($0, series: event.series) }, "\(count) events")
                #expect(
                    forensic.payload
                        == event.payload.flatMap { payload in
                            event.key == nil ? nil : hasher.hashPayload(payload, series: event.series)
                        })
            }
        }
    }

    static func bytes(hex: String) -> [UInt8] {
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            result.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return result
    }

    @Test("RFC 4231 test cases 1, 2, 3, 4, 6 and 7 (secrets of 4 to 131 bytes)")
    func rfc4231() {
        let cases: [(secret: [UInt8], message: [UInt8], mac: String)] = [
            (
                Array(repeating: 0x0b, count: 20), Array("Hi There".utf8),
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
            ),
            (
                Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
            ),
            (
                Array(repeating: 0xaa, count: 20), Array(repeating: 0xdd, count: 50),
                "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"
            ),
            (
                Self.bytes(hex: "0102030405060708090a0b0c0d0e0f10111213141516171819"), Array(repeating: 0xcd, count: 50),
                "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"
            ),
            (
                Array(repeating: 0xaa, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
            ),
            (
                Array(repeating: 0xaa, count: 131),
                Array(
                    "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm."
                        .utf8),
                "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"
            ),
        ]
        for (secret, message, mac) in cases {
            for shani in [true, false] {
                #expect(Self.hex(Self.hmac(secret: secret, message: message, shani: shani)) == mac, "SHA-NI \(shani)")
            }
        }
    }

    @Test(
        "equals swift-crypto's HMAC<SHA256> for random secrets and messages of 0 to 300 bytes, with the SHA extensions and without",
        arguments: [true, false])
    func matchesSwiftCrypto(shani: Bool) {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<2_000 {
            let secret = Self.randomBytes(Int.random(in: 0...(round % 10 == 0 ? 200 : 64), using: &generator), using: &generator)
            // Every length up to 300 at least once (the padding takes one block or two), then random ones.
            let message = Self.randomBytes(round <= 300 ? round : Int.random(in: 0...300, using: &generator), using: &generator)
            let expected = Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
            #expect(
                Self.hmac(secret: secret, message: message, shani: shani) == expected,
                "secret \(secret.count) B, message \(message.count) B")
        }
    }

    @Test(
        "two messages hashed together equal swift-crypto's HMAC<SHA256> of each, whatever their lengths",
        arguments: [true, false])
    func pairsMatchSwiftCrypto(shani: Bool) {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<2_000 {
            let secret = Self.randomBytes(Int.random(in: 0...64, using: &generator), using: &generator)
            // Lengths around the block boundaries of either message, then random ones.
            let boundaries = [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 183, 184, 300]
            let (lengthA, lengthB) =
                round < boundaries.count * boundaries.count
                ? (boundaries[round % boundaries.count], boundaries[round / boundaries.count])
                : (Int.random(in: 0...300, using: &generator), Int.random(in: 0...300, using: &generator))
            let a = Self.randomBytes(lengthA, using: &generator)
            let b = Self.randomBytes(lengthB, using: &generator)
            let (macA, macB) = Self.hmacPair(secret: secret, a, b, shani: shani)
            #expect(macA == Array(HMAC<SHA256>.authenticationCode(for: a, using: SymmetricKey(data: secret))), "\(lengthA) B")
            #expect(macB == Array(HMAC<SHA256>.authenticationCode(for: b, using: SymmetricKey(data: secret))), "\(lengthB) B")
        }
    }

    @Test func aKeyAndItsPayloadHashedTogetherAsEachAlone() {
        let hasher = KeyHasher(secret: Array(repeating: 3, count: 32))
        let series = SeriesKey(service: "payments", operation: "refund")
        for (key, payload) in [
            ("k", "p"), ("order-42", String(repeating: "x", count: 200)), (String(repeating: "é", count: 127), ""),
        ] {
            let both = hasher.hashKeyAndPayload(key, payload, series: series)
            #expect(both.key == hasher.hashKey(key, series: series))
            #expect(both.payload == hasher.hashPayload(payload, series: series))
        }
    }

    @Test("a key's hash is the first 16 bytes of HMAC(domain ‖ service ‖ 0 ‖ operation ‖ 0 ‖ key)")
    func keyHashLayout() {
        let secret: [UInt8] = (0..<32).map { UInt8($0 * 7 & 0xff) }
        let hasher = KeyHasher(secret: secret)
        let series = SeriesKey(service: "payments", operation: "refund")
        for (domain, value) in [(UInt8(0x4B), "order-42"), (0x50, "sha256:abc"), (0x4B, String(repeating: "é", count: 127))] {
            let message = [domain] + Array("payments".utf8) + [0] + Array("refund".utf8) + [0] + Array(value.utf8)
            let mac = Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
            let hash = domain == 0x4B ? hasher.hashKey(value, series: series) : hasher.hashPayload(value, series: series)
            #expect(hash.bytes == Array(mac.prefix(16)))
        }
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
