import DedupVitalsCore
import Foundation
import PropertyBased
import Synchronization
import Testing

/// Hostile ingest bodies against a live service, generated: every one gets a 4xx with the JSON error shape, none
/// is stored, and the service keeps serving.
@Suite struct HostileInputTests {

    /// The kinds of hostile body, each built from random material.
    enum Kind: Int, CaseIterable, Sendable {
        case randomBytes, truncatedJSON, truncatedNDJSON, hugeNumber, nonJSONNumber, deepNesting, hostileName,
            invalidUTF8, duplicatedField, rawControlCharacter, wrongType, lookalikeOutcome
    }

    static func body(_ kind: Kind, noise: [UInt8], n: Int, nowSeconds: Int) -> (bytes: [UInt8], ndjson: Bool) {
        let event = #"{"service":"payments","operation":"refund","outcome":"miss","key":"k-1","ts":\#(nowSeconds)}"#
        let utf8 = Array(event.utf8)
        switch kind {
        case .randomBytes:
            return (noise, n % 2 == 0)
        case .truncatedJSON:
            let array = Array(("[" + event + "," + event + "]").utf8)
            return (Array(array[..<(1 + n % (array.count - 1))]), false)
        case .truncatedNDJSON:
            return (Array((event + "\n").utf8) + utf8[..<(1 + n % (utf8.count - 1))], true)
        case .hugeNumber:
            let digits = String(repeating: "9", count: 20 + n % 400)
            let field = ["ts", "age_ms"][n % 2]
            let sign = n % 3 == 0 ? "-" : ""
            return (
                Array(#"{"service":"payments","operation":"refund","outcome":"hit","\#(field)":\#(sign)\#(digits)}"#.utf8), false
            )
        case .nonJSONNumber:
            let number = ["NaN", "Infinity", "-Infinity", "+5", "0x1F", ".5", "1e", "01"][n % 8]
            return (Array(#"{"service":"payments","operation":"refund","outcome":"hit","age_ms":\#(number)}"#.utf8), false)
        case .deepNesting:
            let depth = 33 + n * 10
            return (
                Array(
                    (#"{"service":"payments","operation":"refund","outcome":"miss","x":"# + String(repeating: "[", count: depth)
                        + String(repeating: "]", count: depth) + "}").utf8), false
            )
        case .hostileName:
            let part = [#"\""#, #"\\"#, #"\u0000"#, #"\u001b[2J"#, "\u{202E}", "а", "ｐ", "\u{200B}", "💥", " ", "{", "\u{0301}"][
                n % 12]
            return (Array(#"{"service":"pay\#(part)ments","operation":"refund","outcome":"miss"}"#.utf8), n % 2 == 1)
        case .invalidUTF8:
            let bad: [[UInt8]] = [[0xC3, 0x28], [0xFF], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xE2, 0x82], [0x80]]
            return (
                Array(#"{"service":"payments","operation":"re"#.utf8) + bad[n % bad.count]
                    + Array(#"fund","outcome":"miss"}"#.utf8), n % 2 == 0
            )
        case .duplicatedField:
            let duplicate = [#""service":"orders""#, #""outcome":"hit""#, #""operation":"x""#, #""key":"k-2""#, #""ts":1"#][n % 5]
            return (Array((String(event.dropLast()) + "," + duplicate + "}").utf8), n % 2 == 0)
        case .rawControlCharacter:
            var bytes = utf8
            bytes.insert(UInt8(n % 32), at: 14)
            return (bytes, false)
        case .wrongType:
            let member = [
                #""service":7"#, #""service":null"#, #""outcome":["miss"]"#, #""operation":{"a":1}"#, #""outcome":true"#,
            ][n % 5]
            return (Array(("{" + member + #","operation":"refund","service":"payments","outcome":"miss"}"#).utf8), false)
        case .lookalikeOutcome:
            let outcome = ["mіss", "MISS", "miss ", "mis\u{200B}s", "ｍiss", "hit\u{0000}"][n % 6]
            return (Array(#"{"service":"payments","operation":"refund","outcome":"\#(outcome)"}"#.utf8), false)
        }
    }

    @Test func hostileBodiesGetA4xxJSONErrorAndStoreNothing() async throws {
        let dir = try TemporaryDirectory()
        try await withService(database: dir.file("db.sqlite")) { service in
            let url = service.baseURL + "/v1/events"
            let nowSeconds = Int(Date().timeIntervalSince1970)
            let statuses = Statuses()
            await propertyCheck(count: 400, input: Gen<Kind>.case, Gen.uint8().array(of: 0...200), Gen.int(in: 0...1_000)) {
                kind, noise, n in
                let (bytes, ndjson) = Self.body(kind, noise: noise, n: n, nowSeconds: nowSeconds)
                let reply = try await HTTP.request(
                    .POST, url, bytes: bytes, headers: [("Content-Type", ndjson ? "application/x-ndjson" : "application/json")])
                statuses.add(kind)
                #expect(
                    (400..<500).contains(reply.status),
                    "\(kind) \(String(decoding: bytes.prefix(120), as: UTF8.self)): \(reply.status)")
                #expect(reply.headers.first(name: "Content-Type") == "application/json")
                #expect(reply.errorCode != nil, "\(kind): \(reply.text)")
            }
            #expect(service.service.state.withWindows { $0.seriesCount } == 0, "nothing was stored")
            let metrics = try await HTTP.get(service.baseURL + "/metrics").text
            #expect(!metrics.contains(#"dedup_ingest_requests_total{code="5"#))
            #expect(try await HTTP.post(url, #"{"service":"payments","operation":"refund","outcome":"miss"}"#).status == 202)
            #expect(statuses.kinds.count == Kind.allCases.count, "every kind was generated")
        }
    }
}

/// Which kinds a property run produced.
final class Statuses: Sendable {
    private let seen = Mutex(Set<Int>())
    func add(_ kind: HostileInputTests.Kind) { _ = seen.withLock { $0.insert(kind.rawValue) } }
    var kinds: Set<Int> { seen.withLock { $0 } }
}
