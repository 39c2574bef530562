import DedupVitalsCore
import GRDB
import OrderedCollections

/// The durable form of each commit group's aggregates: one row of `aggregate_log` per group, folded into `series`,
/// `buckets`, `client_buckets` and `retry_delays` later (see ``AggregateFold``).
///
/// Why a log: upserting every (series, bucket) and (series, client, bucket) cell a group touches cost the single
/// writer ~1 µs per cell, so ingest slowed down in proportion to the series and callers a group spread over (7 ms a
/// group at 1,000 series and 7 callers). Appending the group as one compact row costs about as much as writing its
/// bytes; a fold then upserts each cell once for many groups. The 202 still means durable: the row is in the group's
/// transaction.
///
/// A row: a version byte (1), the group's `receivedAtMs` as a zigzag varint, then three sections, each a varint count
/// of entries:
/// - cells: series id, bucket start (zigzag, relative to `receivedAtMs`), a byte with a bit per non-zero count of
///   ``OutcomeCounts`` in ``DedupStore/countColumns`` order, those counts as varints;
/// - client cells: first the row's client names (a count, then each as a varint length and UTF-8), then per cell:
///   series id, client index, bucket start, a presence byte and the five outcome counts present;
/// - retry delays observed: series id, a varint with a bit per non-zero bucket of ``RetryDelayHistogram``, those
///   counts, and the sum of the delays as the 8 little-endian bytes of a `Double`.
enum AggregateLog {
    static let version: UInt8 = 1

    /// Encodes a group: `cellSeriesIDs` holds the series id of each of `delta`'s cells (in their order), `seriesID`
    /// gives that of each series of `delays` (each series once).
    static func encode(
        _ delta: BatchDelta, cellSeriesIDs: [Int64], delays: [KeyForensics.SeriesDelays], seriesID: (SeriesKey) -> Int64
    ) -> [UInt8] {
        precondition(cellSeriesIDs.count == delta.cells.count, "a series id per cell")
        var namesSize = 0
        for name in delta.clientNames { namesSize += 10 + name.name.utf8.count }
        let maximum =
            1 + 10 + 30 + delta.cells.count * (10 + 10 + 1 + 8 * 10) + namesSize + delta.clientSlots.count
            * (10 + 10 + 10 + 1 + 5 * 10)
            + delays.count * (10 + 10 + RetryDelayHistogram.bounds.count * 10 + 10 + 8)
        let received = delta.receivedAtMs
        return [UInt8](unsafeUninitializedCapacity: maximum) { buffer, initialized in
            var writer = ByteWriter(buffer.baseAddress!)
            writer.byte(version)
            writer.varint(CompactKeyRecordCodec.zigzag(received))
            writer.varint(UInt64(delta.cells.count))
            for (position, (cell, counts)) in delta.cells.enumerated() {
                writer.varint(UInt64(bitPattern: cellSeriesIDs[position]))
                writer.varint(CompactKeyRecordCodec.zigzag(cell.bucketStartMs &- received))
                writeCounts(counts, fields: 8, to: &writer)
            }
            writer.varint(UInt64(delta.clientNames.count))
            for name in delta.clientNames {
                var name = name.name
                name.withUTF8 { utf8 in
                    writer.varint(UInt64(utf8.count))
                    for byte in utf8 { writer.byte(byte) }
                }
            }
            writer.varint(UInt64(delta.clientSlots.count))
            let cells = delta.cells.keys
            for (slot, counts) in delta.clientSlots {
                writer.varint(UInt64(bitPattern: cellSeriesIDs[Int(slot.cell)]))
                writer.varint(UInt64(slot.client))
                writer.varint(CompactKeyRecordCodec.zigzag(cells[Int(slot.cell)].bucketStartMs &- received))
                writeCounts(counts, fields: 5, to: &writer)
            }
            writer.varint(UInt64(delays.count))
            for delays in delays {
                let histogram = delays.histogram
                writer.varint(UInt64(bitPattern: seriesID(delays.series)))
                histogram.withCounts { counts in
                    var mask: UInt64 = 0
                    for (index, count) in counts.enumerated() where count != 0 { mask |= 1 << UInt64(index) }
                    writer.varint(mask)
                    for count in counts where count != 0 { writer.varint(UInt64(bitPattern: count)) }
                }
                writer.raw(histogram.sum.bitPattern.littleEndian)
            }
            initialized = writer.count
        }
    }

    /// A presence byte, then the non-zero counts among the first `fields` (in ``DedupStore/countColumns`` order).
    private static func writeCounts(_ counts: OutcomeCounts, fields: Int, to writer: inout ByteWriter) {
        let values = (
            counts.miss, counts.hit, counts.inFlight, counts.completed, counts.mismatch, counts.doubleExecutions,
            counts.lateRetries, counts.narrowKeys
        )
        withUnsafeBytes(of: values) { raw in
            let values = raw.bindMemory(to: Int64.self).prefix(fields)
            var mask: UInt8 = 0
            for (index, count) in values.enumerated() where count != 0 { mask |= 1 << UInt8(index) }
            writer.byte(mask)
            for count in values where count != 0 { writer.varint(UInt64(bitPattern: count)) }
        }
    }

    /// Appends one group's row.
    static func appendRow(_ bytes: [UInt8], db: Database) throws {
        let append = try BoundStatement(db, sql: "INSERT INTO aggregate_log(body) VALUES (?)")
        append.bind(bytes, at: 1)
        try append.run()
    }

    // MARK: Decoding

    /// Adds the row in `blob` to `fold`; false when the row is malformed (nothing of it is added then: the row is
    /// read whole before anything is added).
    static func decode(_ blob: UnsafeRawBufferPointer, into fold: inout AggregateFold) -> Bool {
        guard var row = read(blob) else { return false }
        let clients = row.clientNames.map { fold.clientIndex($0) }
        for offset in row.clientCells.indices {
            row.clientCells[offset].key.client = clients[Int(row.clientCells[offset].key.client)]
        }
        fold.add(row.cells, seenMs: row.receivedAtMs)
        fold.add(row.clientCells)
        for (series, histogram) in row.delays { fold.add(series: series, delays: histogram) }
        return true
    }

    /// A row read whole: its sections in the fold's keys, client cells indexing `clientNames` (the row's own).
    private struct Row {
        var receivedAtMs: Int64
        var cells: [(key: AggregateFold.Cell, counts: OutcomeCounts)] = []
        var clientNames: [String] = []
        var clientCells: [(key: AggregateFold.ClientCell, counts: OutcomeCounts)] = []
        var delays: [(series: Int64, histogram: RetryDelayHistogram)] = []
    }

    /// Reads a row in one pass; nil when it is malformed. The fold adds a row's sections whole, each cell's sum found
    /// for all of them first (``FoldTable``).
    private static func read(_ blob: UnsafeRawBufferPointer) -> Row? {
        var reader = Reader(blob: blob)
        guard reader.byte() == version, let received = reader.signed(), let cellCount = reader.count() else { return nil }
        var row = Row(receivedAtMs: received)
        // A count never exceeds the bytes left (every entry takes at least one), so a corrupt one reserves no more.
        row.cells.reserveCapacity(cellCount)
        for _ in 0..<cellCount {
            guard let series = reader.signedID(), let start = reader.signed(), let counts = reader.counts(fields: 8) else {
                return nil
            }
            row.cells.append((AggregateFold.Cell(series: series, bucketStartMs: received &+ start), counts))
        }
        guard let nameCount = reader.count() else { return nil }
        row.clientNames.reserveCapacity(nameCount)
        for _ in 0..<nameCount {
            guard let name = reader.string() else { return nil }
            row.clientNames.append(name)
        }
        guard let clientCellCount = reader.count() else { return nil }
        row.clientCells.reserveCapacity(clientCellCount)
        for _ in 0..<clientCellCount {
            guard let series = reader.signedID(), let client = reader.count(), client < row.clientNames.count,
                let start = reader.signed(),
                let counts = reader.counts(fields: 5)
            else { return nil }
            row.clientCells.append(
                (AggregateFold.ClientCell(series: series, client: Int32(client), bucketStartMs: received &+ start), counts))
        }
        guard let delayCount = reader.count() else { return nil }
        for _ in 0..<delayCount {
            guard let series = reader.signedID(), let mask = reader.varint(),
                mask >> (RetryDelayHistogram.bounds.count + 1) == 0
            else { return nil }
            var counts = [Int64](repeating: 0, count: RetryDelayHistogram.bounds.count + 1)
            for index in counts.indices where mask & (1 << UInt64(index)) != 0 {
                guard let count = reader.varint() else { return nil }
                counts[index] = Int64(bitPattern: count)
            }
            guard let sumBits = reader.uint64(),
                let histogram = RetryDelayHistogram(counts: counts, sum: Double(bitPattern: sumBits))
            else { return nil }
            row.delays.append((series, histogram))
        }
        return reader.atEnd ? row : nil
    }

    /// Reads the varints of a row, each checked against the end of the blob.
    private struct Reader {
        let blob: UnsafeRawBufferPointer
        var offset = 0

        var atEnd: Bool { offset == blob.count }

        mutating func byte() -> UInt8? {
            guard offset < blob.count else { return nil }
            defer { offset += 1 }
            return blob[offset]
        }

        mutating func varint() -> UInt64? { CompactKeyRecordCodec.varint(blob, &offset) }

        mutating func signed() -> Int64? { varint().map(CompactKeyRecordCodec.unzigzag) }

        mutating func signedID() -> Int64? { varint().map { Int64(bitPattern: $0) } }

        /// A count of entries, each at least a byte: more than the bytes left is malformed.
        mutating func count() -> Int? {
            guard let value = varint(), value <= UInt64(blob.count - offset) else { return nil }
            return Int(value)
        }

        mutating func uint64() -> UInt64? {
            guard blob.count - offset >= 8 else { return nil }
            defer { offset += 8 }
            return UInt64(littleEndian: blob.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        }

        mutating func string() -> String? {
            guard let length = count() else { return nil }
            defer { offset += length }
            return String(validating: UnsafeRawBufferPointer(rebasing: blob[offset..<(offset + length)]), as: UTF8.self)
        }

        /// A presence byte and the counts it announces among the first `fields` of ``DedupStore/countColumns``.
        mutating func counts(fields: Int) -> OutcomeCounts? {
            guard let mask = byte(), Int(mask) >> fields == 0 else { return nil }
            var counts = OutcomeCounts.zero
            var rest = mask
            while rest != 0 {
                let index = rest.trailingZeroBitCount
                rest &= rest - 1
                guard let raw = varint() else { return nil }
                let value = Int64(bitPattern: raw)
                switch index {
                case 0: counts.miss = value
                case 1: counts.hit = value
                case 2: counts.inFlight = value
                case 3: counts.completed = value
                case 4: counts.mismatch = value
                case 5: counts.doubleExecutions = value
                case 6: counts.lateRetries = value
                default: counts.narrowKeys = value
                }
            }
            return counts
        }
    }
}
