/// The integer value of a JSON number, as JSON Schema reads `"type": "integer"`: any number without a fractional
/// part, however it is spelled. `1200`, `1200.0`, `1.2e3` and `12000e-1` are all 1200, so a client whose JSON encoder
/// writes whole floats with a `.0` (Python's `json.dumps(1200.0)`) or in exponent form is understood.
public enum JSONInteger {
    public enum Failure: Error, Equatable {
        /// Below zero, or with a fractional part.
        case notANonNegativeInteger
        /// Above `Int64.max`.
        case outOfRange
    }

    /// The value of `number`, which must follow the JSON number grammar (RFC 8259 §6; the decoder has checked it),
    /// when it is an integer from 0 to `Int64.max`. Exact: no detour through `Double`.
    public static func nonNegative(_ number: UnsafeBufferPointer<UInt8>) -> Result<Int64, Failure> {
        var i = 0
        let negative = number.first == UInt8(ascii: "-")
        if negative { i += 1 }
        let integerDigits = i..<scanDigits(number, from: i)
        i = integerDigits.upperBound
        var fractionDigits = i..<i
        if i < number.count, number[i] == UInt8(ascii: ".") {
            fractionDigits = (i + 1)..<scanDigits(number, from: i + 1)
            i = fractionDigits.upperBound
        }
        var exponent = 0
        if i < number.count, number[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            let exponentNegative = i < number.count && number[i] == UInt8(ascii: "-")
            if i < number.count, number[i] == UInt8(ascii: "-") || number[i] == UInt8(ascii: "+") { i += 1 }
            // Saturates far beyond any digit count a body can hold, so the value's meaning is kept.
            while i < number.count, exponent < 1 << 40 {
                exponent = exponent * 10 + Int(number[i] - 0x30)
                i += 1
            }
            if exponentNegative { exponent = -exponent }
        }
        // The digits, integer part then fraction, without the trailing zeros (each one moves the exponent up).
        let count = integerDigits.count + fractionDigits.count
        func digit(_ k: Int) -> UInt8 {
            number[k < integerDigits.count ? integerDigits.lowerBound + k : fractionDigits.lowerBound + k - integerDigits.count]
                - 0x30
        }
        var last = count
        while last > 0, digit(last - 1) == 0 { last -= 1 }
        guard last > 0 else { return .success(0) }  // 0, -0, 0.000e5
        guard !negative else { return .failure(.notANonNegativeInteger) }
        let scale = exponent - fractionDigits.count + (count - last)
        guard scale >= 0 else { return .failure(.notANonNegativeInteger) }
        var value: Int64 = 0
        for k in 0..<last {
            let (shifted, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = shifted.addingReportingOverflow(Int64(digit(k)))
            guard !o1, !o2 else { return .failure(.outOfRange) }
            value = sum
        }
        guard scale <= 18 else { return .failure(.outOfRange) }
        for _ in 0..<scale {
            let (shifted, overflow) = value.multipliedReportingOverflow(by: 10)
            guard !overflow else { return .failure(.outOfRange) }
            value = shifted
        }
        return .success(value)
    }

    private static func scanDigits(_ number: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var i = start
        while i < number.count, number[i] >= 0x30, number[i] <= 0x39 { i += 1 }
        return i
    }
}
