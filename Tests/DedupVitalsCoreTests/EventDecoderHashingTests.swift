import DedupVitalsCore
import Testing

/// The decoder given the hasher hashes keys and payloads where they lie in the body (``Event/hashedKey``): the same
/// hashes, and the same batch, as decoding the texts and hashing them in ``BatchDelta``.
@Suite struct EventDecoderHashingTests {
    static let now: Int64 = 1_800_000_000_000
    let decoder = EventDecoder(maxEvents: 100)
    let hasher = KeyHasher(secret: Array(repeating: 9, count: 32))

    /// An event with or without a key and a payload, the key sometimes written with escapes (decoded, not in place)
    /// or in non-ASCII UTF-8, the payload sometimes before the key.
    static func event(_ n: Int) -> String {
        let key: String? =
            switch n % 7 {
            case 6: nil
            case 5: #"k\u00e9y-\#(n)-\"quoted\""#
            case 4: "clé-\(n)-🔑"
            default: "key-\(n)-0123456789abcdef"
            }
        let payload: String? = n % 3 == 0 || n % 7 == 6 && n % 2 == 0 ? "payload-\(n)" : nil
        var fields = [#""service":"payments""#, #""operation":"refund\#(n % 3)""#, #""outcome":"miss""#]
        if let payload { fields.append(#""payload":"\#(payload)""#) }
        if let key { fields.insert(#""key":"\#(key)""#, at: n % 2 == 0 ? fields.count : 1) }
        if n % 7 == 6 { fields.append(#""age_ms":250"#) }
        return "{" + fields.joined(separator: ",") + "}"
    }

    @Test(arguments: [BodyFormat.json, .ndjson])
    func hashesAsTheHasherDoesAndKeepsNoText(format: BodyFormat) throws {
        for count in 1...30 {
            let objects = (0..<count).map(Self.event)
            let body = Array(
                (format == .json ? "[" + objects.joined(separator: ",") + "]" : objects.joined(separator: "\n")).utf8)
            let texts = try decoder.decode(body, format: format, nowMs: Self.now)
            let hashed = try decoder.decode(body, format: format, nowMs: Self.now, hashing: hasher)
            #expect(hashed.count == texts.count)
            for (text, event) in zip(texts, hashed) {
                let expected = text.key.map { key in
                    HashedKey(
                        key: hasher.hashKey(key, series: text.series),
                        payload: text.payload.map { hasher.hashPayload($0, series: text.series) })
                }
                #expect(event.hashedKey == expected, "\(count) events")
                #expect(event.key == nil)
                // A payload without a key is kept as text: nothing hashes it.
                #expect(event.payload == (text.key == nil ? text.payload : nil))
                var plain = event
                (plain.key, plain.payload, plain.hashedKey) = (text.key, text.payload, nil)
                #expect(plain == text)
            }
            let fromTexts = BatchDelta(events: texts, receivedAtMs: Self.now, bucketWidthMs: 10_000, hasher: hasher)
            let fromHashes = BatchDelta(events: hashed, receivedAtMs: Self.now, bucketWidthMs: 10_000, hasher: hasher)
            #expect(fromHashes.forensicEvents == fromTexts.forensicEvents)
            #expect(fromHashes.forensicEvents.contains { $0.key != nil })
        }
    }

    /// Lengths are checked on the bytes in place as on the texts: the same errors.
    @Test(arguments: [
        #"{"service":"a","operation":"b","outcome":"miss","key":"\#(String(repeating: "k", count: 256))"}"#,
        #"{"service":"a","operation":"b","outcome":"miss","key":""}"#,
        #"{"service":"a","operation":"b","outcome":"miss","key":"k","payload":"\#(String(repeating: "p", count: 129))"}"#,
        #"{"service":"a","operation":"b","outcome":"miss","payload":"","key":"k"}"#,
        #"{"service":"a","operation":"b","outcome":"miss","key":7}"#,
        #"{"service":"a","operation":"b","outcome":"miss","key":"\ud800"}"#,
    ])
    func rejectsWhatTheTextDecoderRejects(body: String) {
        func error(_ hashing: KeyHasher?) -> EventDecodingError? {
            do {
                if let hashing {
                    _ = try decoder.decode(Array(body.utf8), format: .json, nowMs: Self.now, hashing: hashing)
                } else {
                    _ = try decoder.decode(Array(body.utf8), format: .json, nowMs: Self.now)
                }
                return nil
            } catch {
                return error
            }
        }
        let expected = error(nil)
        #expect(expected != nil)
        #expect(error(hasher) == expected)
    }
}
