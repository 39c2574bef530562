/// Decodes and validates an ingest body into events in one pass over the raw bytes.
///
/// Written for the event schema rather than on top of a general JSON decoder: ingest is the hot path, and a
/// schema-aware scanner avoids building an intermediate tree. It is strict JSON (RFC 8259): invalid UTF-8, raw
/// control characters, `NaN`, trailing commas and nesting deeper than ``maxDepth`` are syntax errors. Unknown
/// event fields are skipped (after being checked for well-formedness); a field given twice is an error.
public struct EventDecoder: Sendable {
    /// Most events accepted in one body.
    public var maxEvents: Int
    /// Deepest nesting accepted inside skipped values.
    public var maxDepth: Int

    public init(maxEvents: Int = 10_000, maxDepth: Int = 32) {
        self.maxEvents = maxEvents
        self.maxDepth = maxDepth
    }

    /// Decodes `body`. `nowMs` is the receive time: the default `ts` and the reference for the accepted range.
    public func decode(_ body: [UInt8], format: BodyFormat, nowMs: Int64) throws(EventDecodingError) -> [Event] {
        try body.withUnsafeBufferPointer { (buffer) throws(EventDecodingError) -> [Event] in
            try decode(buffer, format: format, nowMs: nowMs)
        }
    }

    /// Decodes `body`, hashing keys and payloads with `hashing` (see the next but one).
    public func decode(
        _ body: [UInt8], format: BodyFormat, nowMs: Int64, hashing: some KeyBytesHashing
    ) throws(EventDecodingError) -> [Event] {
        try body.withUnsafeBufferPointer { (buffer) throws(EventDecodingError) -> [Event] in
            try decode(buffer, format: format, nowMs: nowMs, hashing: hashing)
        }
    }

    /// Decodes `body`. `nowMs` is the receive time: the default `ts` and the reference for the accepted range.
    public func decode(
        _ body: UnsafeBufferPointer<UInt8>, format: BodyFormat, nowMs: Int64
    ) throws(EventDecodingError) -> [Event] {
        try decode(body, format: format, nowMs: nowMs, hashesKeys: false) { _ in }
    }

    /// Decodes `body`. `nowMs` is the receive time: the default `ts` and the reference for the accepted range.
    ///
    /// Each event's key and payload are hashed with `hashing` where they lie in the body, after the last event is
    /// parsed and two at a time (``KeyBytesHashing/pairs(count:hasPayload:_:)``), into ``Event/hashedKey``: the
    /// events carry no key or payload text then (a payload without a key is kept as text, as nothing hashes it).
    public func decode(
        _ body: UnsafeBufferPointer<UInt8>, format: BodyFormat, nowMs: Int64, hashing: some KeyBytesHashing
    ) throws(EventDecodingError) -> [Event] {
        try decode(body, format: format, nowMs: nowMs, hashesKeys: true) { $0.hashKeys(hashing) }
    }

    private func decode(
        _ body: UnsafeBufferPointer<UInt8>, format: BodyFormat, nowMs: Int64, hashesKeys: Bool,
        afterParsing: (inout EventParser) -> Void
    ) throws(EventDecodingError) -> [Event] {
        var parser = EventParser(
            buffer: body, nowMs: nowMs, maxEvents: maxEvents, maxDepth: maxDepth, hashesKeys: hashesKeys)
        do {
            switch format {
            case .json: try parser.parseJSONBody()
            case .ndjson: try parser.parseNDJSONBody()
            }
            afterParsing(&parser)
            return parser.events
        } catch {
            switch error {
            case .syntax(let message, let offset):
                let (line, column) = Self.lineAndColumn(of: offset, in: body)
                throw .invalidJSON(message: message, line: line, column: column)
            case .event(let message, let field):
                throw .invalidEvent(message: message, index: parser.events.count, field: field)
            case .tooMany:
                throw .tooManyEvents(limit: maxEvents)
            }
        }
    }

    static func lineAndColumn(of offset: Int, in body: UnsafeBufferPointer<UInt8>) -> (Int, Int) {
        var line = 1
        var lineStart = 0
        for i in 0..<min(offset, body.count) where body[i] == 0x0A {
            line += 1
            lineStart = i + 1
        }
        return (line, offset - lineStart + 1)
    }
}

/// The scanner behind ``EventDecoder``.
struct EventParser {
    enum Failure: Error {
        case syntax(String, Int)
        case event(String, String?)
        case tooMany
    }

    /// A JSON string: either a range of the input (no escapes) or its decoded bytes.
    enum StringValue {
        case raw(Range<Int>)
        case decoded([UInt8])

        /// Its length in UTF-8 bytes.
        var byteCount: Int {
            switch self {
            case .raw(let range): range.count
            case .decoded(let bytes): bytes.count
            }
        }
    }

    private enum Field: UInt16 {
        case service = 1
        case operation = 2
        case outcome = 4
        case key = 8
        case payload = 16
        case client = 32
        case ts = 64
        case ageMs = 128
        case traceID = 256
        case spanID = 512

        var name: String {
            switch self {
            case .service: "service"
            case .operation: "operation"
            case .outcome: "outcome"
            case .key: "key"
            case .payload: "payload"
            case .client: "client"
            case .ts: "ts"
            case .ageMs: "age_ms"
            case .traceID: "trace_id"
            case .spanID: "span_id"
            }
        }
    }

    let buffer: UnsafeBufferPointer<UInt8>
    var pos = 0
    var end: Int
    let nowMs: Int64
    let maxEvents: Int
    let maxDepth: Int
    var events: [Event] = []
    /// Whether keys and payloads are left in the body for ``hashKeys(_:)`` rather than made strings.
    let hashesKeys: Bool
    /// The events with a key (by position in ``events``), their key and payload as they lie in the body.
    private var unhashed: [(event: Int32, key: StringValue, payload: StringValue?)] = []

    init(buffer: UnsafeBufferPointer<UInt8>, nowMs: Int64, maxEvents: Int, maxDepth: Int, hashesKeys: Bool = false) {
        self.buffer = buffer
        self.end = buffer.count
        self.nowMs = nowMs
        self.maxEvents = maxEvents
        self.maxDepth = maxDepth
        self.hashesKeys = hashesKeys
    }

    /// Hashes the keys (and payloads) of the parsed events into their ``Event/hashedKey``, in the body.
    ///
    /// The closures use locals and static helpers only: a method of the parser called in them copied the whole parser
    /// (retaining its events) for every call.
    mutating func hashKeys<Hashing: KeyBytesHashing>(_ hashing: Hashing) {
        let (unhashed, buffer) = (unhashed, buffer)
        // Moved out, so that setting the hashes does not copy the array.
        var events = events
        self.events = []
        Hashing.pairs(count: unhashed.count, hasPayload: { unhashed[$0].payload != nil }) { step in
            switch step {
            case .keyAndPayload(let position):
                let (event, key, payload) = unhashed[position]
                let series = Self.series(of: event, in: events)
                let hashes = Self.bytes(of: key, in: buffer) { key in
                    Self.bytes(of: payload!, in: buffer) { hashing.hashKeyAndPayload(bytes: key, $0, series: series) }
                }
                events[Int(event)].hashedKey = HashedKey(key: hashes.key, payload: hashes.payload)
            case .twoKeys(let first, let second):
                let (eventA, keyA) = (unhashed[first].event, unhashed[first].key)
                let (eventB, keyB) = (unhashed[second].event, unhashed[second].key)
                let (seriesA, seriesB) = (Self.series(of: eventA, in: events), Self.series(of: eventB, in: events))
                let hashes = Self.bytes(of: keyA, in: buffer) { keyA in
                    Self.bytes(of: keyB, in: buffer) { hashing.hashKeys(bytes: keyA, seriesA, $0, seriesB) }
                }
                events[Int(eventA)].hashedKey = HashedKey(key: hashes.0, payload: nil)
                events[Int(eventB)].hashedKey = HashedKey(key: hashes.1, payload: nil)
            case .key(let position):
                let (event, key) = (unhashed[position].event, unhashed[position].key)
                let series = Self.series(of: event, in: events)
                let hash = Self.bytes(of: key, in: buffer) { hashing.hashKey(bytes: $0, series: series) }
                events[Int(event)].hashedKey = HashedKey(key: hash, payload: nil)
            }
        }
        self.events = events
    }

    /// The series names of a parsed event (without copying the event, and without a ``SeriesKey``'s hash).
    private static func series(of event: Int32, in events: [Event]) -> SeriesNames {
        SeriesNames(service: events[Int(event)].service, operation: events[Int(event)].operation)
    }

    /// Runs `body` with a string's UTF-8 bytes: in the body, or decoded from its escapes.
    private static func bytes<R>(
        of value: StringValue, in buffer: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> R
    ) -> R {
        switch value {
        case .raw(let range): body(UnsafeBufferPointer(rebasing: buffer[range]))
        case .decoded(let bytes): bytes.withUnsafeBufferPointer(body)
        }
    }

    // MARK: Bodies

    mutating func parseJSONBody() throws(Failure) {
        skipByteOrderMark()
        skipWhitespace()
        guard pos < end else { throw .syntax("empty body: expected an event, an array of events or {\"events\": [...]}", pos) }
        switch buffer[pos] {
        case UInt8(ascii: "["):
            try parseEventArray()
        case UInt8(ascii: "{"):
            pos += 1
            skipWhitespace()
            if pos < end, buffer[pos] == UInt8(ascii: "\"") {
                let keyStart = pos
                let key = try parseString()
                if matches(key, "events") {
                    try parseColon()
                    guard pos < end, buffer[pos] == UInt8(ascii: "[") else {
                        throw .syntax("\"events\" must be an array of events", pos)
                    }
                    try parseEventArray()
                    skipWhitespace()
                    guard pos < end, buffer[pos] == UInt8(ascii: "}") else {
                        throw .syntax(
                            pos < end && buffer[pos] == UInt8(ascii: ",")
                                ? "an {\"events\": [...]} wrapper holds nothing but \"events\"" : "expected '}'", pos)
                    }
                    pos += 1
                } else {
                    pos = keyStart
                    try appendEvent(try parseEventMembers())
                }
            } else {
                try appendEvent(try parseEventMembers())
            }
        default:
            try checkIsValue()
            throw .event("an event must be a JSON object", nil)
        }
        skipWhitespace()
        guard pos == end else { throw .syntax("unexpected data after the JSON value", pos) }
    }

    mutating func parseNDJSONBody() throws(Failure) {
        skipByteOrderMark()
        var sawContent = false
        let total = buffer.count
        var lineStart = pos
        while lineStart < total {
            var lineEnd = lineStart
            while lineEnd < total, buffer[lineEnd] != 0x0A { lineEnd += 1 }
            pos = lineStart
            end = lineEnd
            skipWhitespace()
            if pos < end {
                sawContent = true
                guard buffer[pos] == UInt8(ascii: "{") else {
                    try checkIsValue()
                    throw .event("each NDJSON line must hold one event object", nil)
                }
                pos += 1
                try appendEvent(try parseEventMembers())
                skipWhitespace()
                guard pos == end else { throw .syntax("unexpected data after the event on this line", pos) }
            }
            lineStart = lineEnd + 1
        }
        end = total
        guard sawContent else { throw .syntax("empty body: expected one event object per line", 0) }
    }

    private mutating func parseEventArray() throws(Failure) {
        pos += 1  // [
        skipWhitespace()
        if pos < end, buffer[pos] == UInt8(ascii: "]") {
            pos += 1
            return
        }
        while true {
            skipWhitespace()
            guard pos < end else { throw .syntax("unexpected end of input inside the array", pos) }
            guard buffer[pos] == UInt8(ascii: "{") else {
                try checkIsValue()
                throw .event("an event must be a JSON object", nil)
            }
            pos += 1
            try appendEvent(try parseEventMembers())
            if try moreElements(closing: UInt8(ascii: "]")) { continue }
            return
        }
    }

    private mutating func appendEvent(_ event: Event) throws(Failure) {
        guard events.count < maxEvents else { throw .tooMany }
        events.append(event)
    }

    // MARK: One event

    /// Parses the members of an event object whose `{` is already consumed, through its `}`.
    private mutating func parseEventMembers() throws(Failure) -> Event {
        var seen: UInt16 = 0
        var service: String?
        var operation: String?
        var outcome: Outcome?
        var key: String?
        var payload: String?
        // With ``hashesKeys``: the key and payload where they lie, hashed after the body.
        var keyValue: StringValue?
        var payloadValue: StringValue?
        var client: String?
        var timeMs: Int64?
        var ageMs: Int64?
        var traceID: String?
        var spanID: String?

        skipWhitespace()
        if pos < end, buffer[pos] == UInt8(ascii: "}") {
            pos += 1
        } else {
            while true {
                skipWhitespace()
                guard pos < end, buffer[pos] == UInt8(ascii: "\"") else {
                    throw .syntax(
                        pos < end ? "expected a field name in double quotes" : "unexpected end of input inside an event", pos)
                }
                let name = try parseString()
                try parseColon()
                if let field = field(named: name) {
                    guard seen & field.rawValue == 0 else {
                        throw .event("field \"\(field.name)\" appears more than once", field.name)
                    }
                    seen |= field.rawValue
                    if try parseNull() {
                        // null is the same as leaving the field out.
                    } else {
                        switch field {
                        case .service: service = try parseName(field)
                        case .operation: operation = try parseName(field)
                        case .client: client = try parseName(field)
                        case .outcome:
                            let text = try parseStringField(field)
                            outcome = try checked { () throws(EventFieldProblem) in
                                try EventFieldCheck.outcome(text, field: field.name)
                            }
                        case .key where hashesKeys:
                            let value = try parseStringValue(field)
                            try checked { () throws(EventFieldProblem) in
                                try EventFieldCheck.validateKey(byteCount: value.byteCount, field: field.name)
                            }
                            keyValue = value
                        case .key:
                            // Checked, then moved into the event: a check that returned the text copied it.
                            let text = try parseStringField(field)
                            try checked { () throws(EventFieldProblem) in
                                try EventFieldCheck.validateKey(text, field: field.name)
                            }
                            key = text
                        case .payload where hashesKeys:
                            let value = try parseStringValue(field)
                            try checked { () throws(EventFieldProblem) in
                                try EventFieldCheck.validatePayload(byteCount: value.byteCount, field: field.name)
                            }
                            payloadValue = value
                        case .payload:
                            let text = try parseStringField(field)
                            try checked { () throws(EventFieldProblem) in
                                try EventFieldCheck.validatePayload(text, field: field.name)
                            }
                            payload = text
                        case .ts:
                            timeMs = try parseTimestamp()
                        case .ageMs:
                            ageMs = try parseAgeMs()
                        case .traceID: traceID = try parseStringField(field)
                        case .spanID: spanID = try parseStringField(field)
                        }
                    }
                } else {
                    if matches(name, "events") { throw .event("\"events\" is not an event field", "events") }
                    try skipValue(depth: 1)
                }
                if try moreElements(closing: UInt8(ascii: "}")) { continue }
                break
            }
        }
        let required = try checked { () throws(EventFieldProblem) in
            (
                try EventFieldCheck.required(service, field: Field.service.name),
                try EventFieldCheck.required(operation, field: Field.operation.name),
                try EventFieldCheck.required(outcome, field: Field.outcome.name)
            )
        }
        let trace = try checked { () throws(EventFieldProblem) in
            try EventFieldCheck.trace(
                traceID: traceID, spanID: spanID, traceField: Field.traceID.name, spanField: Field.spanID.name)
        }
        if let keyValue {
            // The event is appended next, at this position.
            unhashed.append((Int32(events.count), keyValue, payloadValue))
        } else if let payloadValue {
            payload = makeString(payloadValue)
        }
        return Event(
            service: required.0, operation: required.1, outcome: required.2, key: key, payload: payload, client: client,
            timeMs: timeMs ?? nowMs, ageMs: ageMs, trace: trace
        )
    }

    /// The field a member name names, or nil for a field this version does not know.
    ///
    /// The name's first eight bytes are read as one little-endian word (a ninth byte only for `operation`) and
    /// compared with the word of each field name of its length: matching the names one after the other, byte by byte,
    /// was ~15 % of parsing an event (docs/performance.md).
    private func field(named name: StringValue) -> Field? {
        switch name {
        case .raw(let range):
            // The bytes after the name (its closing quote at least) may be read too: they are masked off.
            let readable = end - range.lowerBound
            return Self.field(named: UnsafeBufferPointer(rebasing: buffer[range]), readable: readable)
        case .decoded(let bytes):
            return bytes.withUnsafeBufferPointer { Self.field(named: $0, readable: $0.count) }
        }
    }

    /// The first eight bytes of each field name, little-endian (``field(named:)``). Literals, so that they need no
    /// initialization at run time; `EventDecoderFieldNameTests` derives each from its name.
    enum FieldWords {
        static let ts: UInt64 = 0x7374
        static let key: UInt64 = 0x79_656B
        static let client: UInt64 = 0x746E_6569_6C63
        static let ageMs: UInt64 = 0x736D_5F65_6761
        static let service: UInt64 = 0x65_6369_7672_6573
        static let outcome: UInt64 = 0x65_6D6F_6374_756F
        static let payload: UInt64 = 0x64_616F_6C79_6170
        static let spanID: UInt64 = 0x64_695F_6E61_7073
        static let traceID: UInt64 = 0x6469_5F65_6361_7274
        /// `operation`'s first eight bytes (its ninth is `n`).
        static let operation: UInt64 = 0x6F69_7461_7265_706F
    }

    /// ``field(named:)`` of a name's bytes, `readable` of which may be read from its start.
    @inline(__always)
    private static func field(named name: UnsafeBufferPointer<UInt8>, readable: Int) -> Field? {
        let count = name.count
        guard count >= 2, count <= 9, let start = name.baseAddress else { return nil }
        var word: UInt64
        if readable >= 8 {
            word = UInt64(littleEndian: UnsafeRawPointer(start).loadUnaligned(as: UInt64.self))
            if count < 8 { word &= (1 << UInt64(8 * count)) - 1 }
        } else {
            word = 0
            for i in 0..<count { word |= UInt64(start[i]) << UInt64(8 * i) }
        }
        switch count {
        case 2: return word == FieldWords.ts ? .ts : nil
        case 3: return word == FieldWords.key ? .key : nil
        case 6:
            if word == FieldWords.client { return .client }
            return word == FieldWords.ageMs ? .ageMs : nil
        case 7:
            switch word {
            case FieldWords.service: return .service
            case FieldWords.outcome: return .outcome
            case FieldWords.payload: return .payload
            case FieldWords.spanID: return .spanID
            default: return nil
            }
        case 8: return word == FieldWords.traceID ? .traceID : nil
        default: return word == FieldWords.operation && start[8] == UInt8(ascii: "n") ? .operation : nil
        }
    }

    private mutating func parseStringField(_ field: Field) throws(Failure) -> String {
        // Parsed before `makeString` is called: in `makeString(try parseString())` Swift reads the call's `self`
        // before the argument mutates it, so it copies the whole parser (and retains its events) for every string
        // field, ~5 % of the service's CPU at batch 500 (docs/performance.md).
        let value = try parseStringValue(field)
        return makeString(value)
    }

    /// A string field's value where it lies (or decoded from its escapes).
    private mutating func parseStringValue(_ field: Field) throws(Failure) -> StringValue {
        guard pos < end, buffer[pos] == UInt8(ascii: "\"") else {
            try checkIsValue()
            throw .event("\(field.name) must be a string", field.name)
        }
        return try parseString()
    }

    private mutating func parseName(_ field: Field) throws(Failure) -> String {
        let text = try parseStringField(field)
        try checked { () throws(EventFieldProblem) in try EventFieldCheck.validateName(text, field: field.name) }
        return text
    }

    /// Runs a shared field check (``EventFieldCheck``), reporting its problem as an invalid event.
    private func checked<T>(_ check: () throws(EventFieldProblem) -> T) throws(Failure) -> T {
        do {
            return try check()
        } catch {
            throw .event(error.message, error.field)
        }
    }

    private mutating func parseTimestamp() throws(Failure) -> Int64 {
        let ms: Int64
        if pos < end, buffer[pos] == UInt8(ascii: "\"") {
            let value = try parseString()
            let parsed: Int64? =
                switch value {
                case .raw(let range): RFC3339.parseMilliseconds(UnsafeBufferPointer(rebasing: buffer[range]))
                case .decoded(let bytes): RFC3339.parseMilliseconds(bytes)
                }
            guard let parsed else { throw .event("ts must be an RFC 3339 timestamp or Unix seconds", "ts") }
            ms = parsed
        } else if pos < end, isNumberStart(buffer[pos]) {
            let range = try scanNumber()
            let text = String(decoding: UnsafeBufferPointer(rebasing: buffer[range]), as: UTF8.self)
            guard let seconds = Double(text), seconds.isFinite, abs(seconds) < 1e15 else {
                throw .event("ts is out of range", "ts")
            }
            ms = Int64((seconds * 1000).rounded())
        } else {
            try checkIsValue()
            throw .event("ts must be an RFC 3339 string or a number of Unix seconds", "ts")
        }
        return try checked { () throws(EventFieldProblem) in try EventFieldCheck.time(ms, nowMs: nowMs, field: "ts") }
    }

    private mutating func parseAgeMs() throws(Failure) -> Int64 {
        guard pos < end, isNumberStart(buffer[pos]) else {
            try checkIsValue()
            throw .event("age_ms must be a non-negative integer", "age_ms")
        }
        let range = try scanNumber()
        // Any spelling of a whole number (1200, 1200.0, 1.2e3), as JSON Schema's "integer" reads it.
        switch JSONInteger.nonNegative(UnsafeBufferPointer(rebasing: buffer[range])) {
        case .success(let value): return value
        case .failure(.notANonNegativeInteger): throw .event("age_ms must be a non-negative integer", "age_ms")
        case .failure(.outOfRange): throw .event("age_ms is out of range", "age_ms")
        }
    }

    // MARK: JSON scanning

    private mutating func skipWhitespace() {
        while pos < end {
            let b = buffer[pos]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
            pos += 1
        }
    }

    private mutating func skipByteOrderMark() {
        if buffer.count >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF { pos = 3 }
    }

    /// After an element of an array or object: consumes `,` (true: another element follows) or the closing
    /// bracket (false).
    private mutating func moreElements(closing: UInt8) throws(Failure) -> Bool {
        skipWhitespace()
        if pos < end, buffer[pos] == UInt8(ascii: ",") {
            pos += 1
            return true
        }
        if pos < end, buffer[pos] == closing {
            pos += 1
            return false
        }
        // Built only on the error path: this runs after every field and element.
        let expected = "expected ',' or '\(Character(UnicodeScalar(closing)))'"
        throw .syntax(pos < end ? expected : "unexpected end of input, \(expected)", pos)
    }

    private mutating func parseColon() throws(Failure) {
        skipWhitespace()
        guard pos < end, buffer[pos] == UInt8(ascii: ":") else { throw .syntax("expected ':' after the field name", pos) }
        pos += 1
        skipWhitespace()
    }

    private mutating func parseNull() throws(Failure) -> Bool {
        guard pos < end, buffer[pos] == UInt8(ascii: "n") else { return false }
        try expectLiteral("null")
        return true
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(Failure) {
        let count = literal.utf8CodeUnitCount
        let start = literal.utf8Start
        guard end - pos >= count else { throw .syntax("invalid literal", pos) }
        for i in 0..<count where buffer[pos + i] != start[i] {
            throw .syntax("invalid literal", pos)
        }
        pos += count
    }

    private func isNumberStart(_ b: UInt8) -> Bool { b == UInt8(ascii: "-") || (b >= 0x30 && b <= 0x39) }

    /// Scans a JSON number per RFC 8259 and returns its byte range.
    private mutating func scanNumber() throws(Failure) -> Range<Int> {
        let start = pos
        if buffer[pos] == UInt8(ascii: "-") { pos += 1 }
        guard pos < end, buffer[pos] >= 0x30, buffer[pos] <= 0x39 else { throw .syntax("invalid number", pos) }
        if buffer[pos] == 0x30 {
            pos += 1
        } else {
            while pos < end, buffer[pos] >= 0x30, buffer[pos] <= 0x39 { pos += 1 }
        }
        if pos < end, buffer[pos] == UInt8(ascii: ".") {
            pos += 1
            let digitsStart = pos
            while pos < end, buffer[pos] >= 0x30, buffer[pos] <= 0x39 { pos += 1 }
            guard pos > digitsStart else { throw .syntax("invalid number: digits expected after '.'", pos) }
        }
        if pos < end, buffer[pos] == UInt8(ascii: "e") || buffer[pos] == UInt8(ascii: "E") {
            pos += 1
            if pos < end, buffer[pos] == UInt8(ascii: "+") || buffer[pos] == UInt8(ascii: "-") { pos += 1 }
            let digitsStart = pos
            while pos < end, buffer[pos] >= 0x30, buffer[pos] <= 0x39 { pos += 1 }
            guard pos > digitsStart else { throw .syntax("invalid number: digits expected in the exponent", pos) }
        }
        return start..<pos
    }

    /// Parses a string starting at its opening quote.
    mutating func parseString() throws(Failure) -> StringValue {
        pos += 1
        let start = pos
        var ascii = true
        while pos < end {
            let b = buffer[pos]
            if b == UInt8(ascii: "\"") {
                let range = start..<pos
                pos += 1
                if !ascii, !UTF8Validation.isValid(UnsafeBufferPointer(rebasing: buffer[range])) {
                    throw .syntax("invalid UTF-8 in string", start)
                }
                return .raw(range)
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw .syntax("unescaped control character in string", pos) }
            if b >= 0x80 { ascii = false }
            pos += 1
        }
        guard pos < end else { throw .syntax("unterminated string", start - 1) }
        return .decoded(try parseEscapedString(from: start))
    }

    private mutating func parseEscapedString(from start: Int) throws(Failure) -> [UInt8] {
        var out = [UInt8](UnsafeBufferPointer(rebasing: buffer[start..<pos]))
        while pos < end {
            let b = buffer[pos]
            switch b {
            case UInt8(ascii: "\""):
                pos += 1
                guard UTF8Validation.isValid(out) else { throw .syntax("invalid UTF-8 in string", start) }
                return out
            case UInt8(ascii: "\\"):
                pos += 1
                guard pos < end else { break }
                let e = buffer[pos]
                pos += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try parseHex4()
                    if scalar >= 0xD800, scalar <= 0xDBFF {
                        guard end - pos >= 6, buffer[pos] == UInt8(ascii: "\\"), buffer[pos + 1] == UInt8(ascii: "u") else {
                            throw .syntax("unpaired surrogate in \\u escape", pos)
                        }
                        pos += 2
                        let low = try parseHex4()
                        guard low >= 0xDC00, low <= 0xDFFF else { throw .syntax("unpaired surrogate in \\u escape", pos) }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if scalar >= 0xDC00, scalar <= 0xDFFF {
                        throw .syntax("unpaired surrogate in \\u escape", pos)
                    }
                    appendUTF8(scalar, to: &out)
                default:
                    throw .syntax("invalid escape sequence", pos - 1)
                }
            default:
                if b < 0x20 { throw .syntax("unescaped control character in string", pos) }
                out.append(b)
                pos += 1
            }
        }
        throw .syntax("unterminated string", start - 1)
    }

    private mutating func parseHex4() throws(Failure) -> UInt32 {
        guard end - pos >= 4 else { throw .syntax("invalid \\u escape", pos) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let b = buffer[pos]
            let digit: UInt32
            switch b {
            case 0x30...0x39: digit = UInt32(b - 0x30)
            case 0x41...0x46: digit = UInt32(b - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(b - 0x61 + 10)
            default: throw .syntax("invalid \\u escape", pos)
            }
            value = value << 4 | digit
            pos += 1
        }
        return value
    }

    private func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            out.append(UInt8(scalar))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | (scalar >> 6)))
            out.append(UInt8(0x80 | (scalar & 0x3F)))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | (scalar >> 12)))
            out.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (scalar & 0x3F)))
        default:
            out.append(UInt8(0xF0 | (scalar >> 18)))
            out.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
            out.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (scalar & 0x3F)))
        }
    }

    /// Checks that a well-formed JSON value starts here (so that a type error is not reported for malformed input).
    private mutating func checkIsValue() throws(Failure) {
        let start = pos
        try skipValue(depth: 1)
        pos = start
    }

    /// Skips one JSON value, checking that it is well-formed.
    private mutating func skipValue(depth: Int) throws(Failure) {
        guard depth <= maxDepth else { throw .syntax("nesting deeper than \(maxDepth) levels", pos) }
        guard pos < end else { throw .syntax("unexpected end of input, expected a value", pos) }
        switch buffer[pos] {
        case UInt8(ascii: "\""):
            _ = try parseString()
        case UInt8(ascii: "{"):
            pos += 1
            skipWhitespace()
            if pos < end, buffer[pos] == UInt8(ascii: "}") {
                pos += 1
                return
            }
            while true {
                skipWhitespace()
                guard pos < end, buffer[pos] == UInt8(ascii: "\"") else {
                    throw .syntax("expected a field name in double quotes", pos)
                }
                _ = try parseString()
                try parseColon()
                try skipValue(depth: depth + 1)
                if try moreElements(closing: UInt8(ascii: "}")) { continue }
                return
            }
        case UInt8(ascii: "["):
            pos += 1
            skipWhitespace()
            if pos < end, buffer[pos] == UInt8(ascii: "]") {
                pos += 1
                return
            }
            while true {
                skipWhitespace()
                try skipValue(depth: depth + 1)
                if try moreElements(closing: UInt8(ascii: "]")) { continue }
                return
            }
        case UInt8(ascii: "t"): try expectLiteral("true")
        case UInt8(ascii: "f"): try expectLiteral("false")
        case UInt8(ascii: "n"): try expectLiteral("null")
        case let b where isNumberStart(b): _ = try scanNumber()
        default: throw .syntax("expected a JSON value", pos)
        }
    }

    // MARK: Strings

    private func matches(_ value: StringValue, _ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        let start = literal.utf8Start
        switch value {
        case .raw(let range):
            guard range.count == count else { return false }
            for i in 0..<count where buffer[range.lowerBound + i] != start[i] { return false }
            return true
        case .decoded(let bytes):
            guard bytes.count == count else { return false }
            for i in 0..<count where bytes[i] != start[i] { return false }
            return true
        }
    }

    private func makeString(_ value: StringValue) -> String {
        switch value {
        case .raw(let range): String(decoding: UnsafeBufferPointer(rebasing: buffer[range]), as: UTF8.self)
        case .decoded(let bytes): String(decoding: bytes, as: UTF8.self)
        }
    }
}
