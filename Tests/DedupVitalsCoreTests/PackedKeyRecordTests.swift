import Testing

@testable import DedupVitalsCore

/// The packed form of the tracked keys' records: exact at the limits, and refused (never rounded) beyond them.
@Suite struct PackedKeyRecordTests {
    static let t0: Int64 = 1_800_000_000_000
    /// The farthest a time may lie before the last sighting and still be packed: 49.7 days.
    static let reach = Int64(UInt32.max) - 1

    static func record(_ change: (inout KeyRecord) -> Void = { _ in }) -> KeyRecord {
        var record = KeyRecord(seriesIndex: 4, createdMs: t0)
        record.firstMissMs = t0
        record.lastMissMs = t0 + 5
        record.completedMs = t0 + 9
        record.lastSeenMs = t0 + 9
        record.miss = 2
        record.completed = 1
        record.open = true
        record.payloadVariants = 255
        record.payloadFingerprint = .max
        record.traces = KeyTraces(firstMiss: TraceContext(traceHigh: 1, traceLow: 2, span: 3))
        change(&record)
        return record
    }

    /// Packs and unpacks, handing back the traces as the table does (only when the packed record says it had some).
    static func roundTrip(_ record: KeyRecord) -> KeyRecord? {
        PackedKeyRecord(record).map { $0.record(traces: $0.hasTraces ? record.traces : nil) }
    }

    @Test func aRecordComesBackExactly() {
        let full = Self.record()
        #expect(PackedKeyRecord(full)?.hasTraces == true)
        #expect(Self.roundTrip(full) == full)
        #expect(Self.roundTrip(full)?.traces === full.traces)
        let fresh = KeyRecord(seriesIndex: 0, createdMs: Self.t0)
        #expect(PackedKeyRecord(fresh)?.hasTraces == false)
        #expect(Self.roundTrip(fresh) == fresh)
        let closed = Self.record { $0.open = false }
        #expect(Self.roundTrip(closed) == closed)
    }

    @Test func timesReach49Point7DaysBackFromTheLastSighting() {
        let end = Self.t0 + Self.reach
        let atTheLimit = Self.record {
            $0.lastSeenMs = end
            $0.completedMs = end
        }
        #expect(Self.roundTrip(atTheLimit) == atTheLimit)
        for field in [\KeyRecord.createdMs, \.firstMissMs, \.lastMissMs, \.completedMs] {
            let beyond = Self.record {
                $0.lastSeenMs = end + 1
                $0.completedMs = end + 1
                $0[keyPath: field] = Self.t0
            }
            #expect(PackedKeyRecord(beyond) == nil, "\(field) one millisecond too far back")
        }
    }

    /// A time after the last sighting (only a stored record could hold one), a real time of 0 for creation, and
    /// times at the ends of Int64 are refused or kept exactly, never wrapped.
    @Test func unorderedAndExtremeTimesAreRefused() {
        #expect(PackedKeyRecord(Self.record { $0.completedMs = $0.lastSeenMs + 1 }) == nil)
        #expect(PackedKeyRecord(Self.record { $0.createdMs = $0.lastSeenMs + 1 }) == nil)
        #expect(PackedKeyRecord(Self.record { $0.firstMissMs = .min }) == nil)
        #expect(PackedKeyRecord(Self.record { $0.lastSeenMs = .max }) == nil)
        let nearZero = KeyRecord(seriesIndex: 1, createdMs: 0)
        #expect(Self.roundTrip(nearZero) == nearZero)
        let negative = Self.record {
            $0.createdMs = -5
            $0.firstMissMs = -5
            $0.lastMissMs = -5
            $0.completedMs = -1
            $0.lastSeenMs = -1
        }
        #expect(Self.roundTrip(negative) == negative)
    }

    @Test func countsUpTo65535ArePacked() {
        for field in [\KeyRecord.miss, \.hit, \.inFlight, \.completed, \.mismatch] {
            let full = Self.record { $0[keyPath: field] = 65_535 }
            #expect(Self.roundTrip(full) == full)
            #expect(PackedKeyRecord(Self.record { $0[keyPath: field] = 65_536 }) == nil)
            #expect(PackedKeyRecord(Self.record { $0[keyPath: field] = .max }) == nil)
        }
    }

    @Test func aPlaceholderIsNeverARecord() {
        #expect(PackedKeyRecord(placeholderFor: 3).isPlaceholder)
        #expect(PackedKeyRecord(Self.record { $0.createdMs = $0.lastSeenMs - Self.reach })?.isPlaceholder == false)
    }
}
