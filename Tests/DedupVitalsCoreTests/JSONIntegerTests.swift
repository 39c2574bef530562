import DedupVitalsCore
import Testing

/// `age_ms` takes any JSON spelling of a whole number, as JSON Schema's `"type": "integer"` does, exactly.
@Suite struct JSONIntegerTests {
    static func value(_ text: String) -> Result<Int64, JSONInteger.Failure> {
        Array(text.utf8).withUnsafeBufferPointer { JSONInteger.nonNegative($0) }
    }

    @Test(
        arguments: [
            ("0", 0), ("-0", 0), ("0.0", 0), ("-0.0e7", 0), ("0e-99999999999999999999", 0),
            ("1200", 1200), ("1200.0", 1200), ("1200.000", 1200), ("1.2e3", 1200), ("1.2E+3", 1200), ("12000e-1", 1200),
            ("120000.00e-2", 1200), ("1402307911367.0", 1_402_307_911_367),
            ("9223372036854775807", Int64.max), ("9223372036854775807.0", Int64.max), ("9.223372036854775807e18", Int64.max),
            ("9e18", 9_000_000_000_000_000_000), ("0.0000000000000000000000000001e28", 1),
        ] as [(String, Int64)])
    func wholeNumbersAreAccepted(_ text: String, _ expected: Int64) {
        #expect(Self.value(text) == .success(expected), "\(text)")
    }

    @Test(arguments: ["-1", "-1.0", "-1e3", "1.5", "1200.5", "1.25e1", "12001e-1", "1e-1", "5e-99999999999999999999"])
    func fractionsAndNegativesAreRefused(_ text: String) {
        #expect(Self.value(text) == .failure(.notANonNegativeInteger), "\(text)")
    }

    @Test(arguments: [
        "9223372036854775808", "9223372036854775807.5e1", "1e19", "10e18", "1e400", "1e99999999999999999999",
        "99999999999999999999999",
    ])
    func valuesAboveInt64AreOutOfRange(_ text: String) {
        #expect(Self.value(text) == .failure(.outOfRange), "\(text)")
    }

    @Test func theDecoderReadsAgeMsThisWay() throws {
        let decoder = EventDecoder(maxEvents: 10)
        func ageMs(_ value: String) throws(EventDecodingError) -> Int64? {
            try decoder.decode(
                Array(#"{"service":"a","operation":"b","outcome":"hit","age_ms":\#(value)}"#.utf8), format: .json, nowMs: 0)[0]
                .ageMs
        }
        #expect(try ageMs("1200.0") == 1200)
        #expect(try ageMs("1.2e3") == 1200)
        #expect(
            throws: EventDecodingError.invalidEvent(message: "age_ms must be a non-negative integer", index: 0, field: "age_ms")
        ) {
            try ageMs("1200.5")
        }
        #expect(throws: EventDecodingError.invalidEvent(message: "age_ms is out of range", index: 0, field: "age_ms")) {
            try ageMs("1e19")
        }
    }
}
