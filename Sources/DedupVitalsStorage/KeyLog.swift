import DedupVitalsCore
import DequeModule
import Foundation
import GRDB

/// How key records are kept on disk: an append-only log in the `key_log` table.
///
/// Each group commit appends one row whose blob holds an entry for every key the group touched: the key's new
/// record, or a removal (eviction at the key cap, an expired series). Appending is one sequential insert per group,
/// where rewriting a row per key would cost a random B-tree write per keyed event on the single writer.
/// At start the log is replayed in order, the last entry of a key winning. Superseded entries are dropped by
/// compaction passes (``KeyLogCompactor``, planned by a request thread, off the writer):
/// a pass reads the oldest rows, keeps the entries that are still their key's record in memory, and is committed with
/// a group: the kept entries are appended again and the rows read are deleted. Rows whose keys are all gone (evicted
/// oldest first at the key cap) are deleted without being read. Passes keep the log under about twice the tracked keys
/// (``readingThreshold(liveKeys:)``).
/// Row ids never repeat (`AUTOINCREMENT`), so a pass resumes after the last row planned.
///
/// Entry layout: a tag byte, the 16-byte key hash (big-endian), then
/// - tag 4, a removal: nothing more (17 bytes: with a fresh key on every event, one per key evicted at the cap);
/// - tag 0, a removal as written before tag 4: a series id (Int64, little-endian) that was always 0;
/// - tag 2, a record: the series id as a varint and the record in ``CompactKeyRecordCodec``'s form (~40 bytes in all);
/// - tag 3, a record with the traces of its misses: as tag 2, then ``CompactKeyRecordCodec``'s trace section (entries
///   of keys reported without trace context stay tag 2, byte for byte as before);
/// - tag 1, a record as version 4's migration wrote it: the series id (Int64) and the 78 bytes of ``KeyRecordCodec``.
struct KeyLog: Sendable {
    /// The size of a tag-0 removal, and of the header of a tag-1 record.
    static let headerSize = 25
    static let recordEntrySize = headerSize + KeyRecordCodec.size
    /// A log this small is never compacted.
    static let minimumEntries = 16_384
    /// The least a compaction pass looks at.
    static let minimumPass = 4_096
    /// The most a pass looks at, so that deciding which entries are current stays short under the committer's lock.
    static let maximumPass = 16_384

    /// The most a pass of rows known dead deletes: no entry of them is read, but their pages are freed on the writer.
    static let maximumDeadPass = 32_768
    /// Rows are merged into a run while it holds fewer entries than this.
    static let runEntries = 4_096

    /// Consecutive rows of the log, in order, merged while small (a group of single events appends a row of one entry:
    /// one run per row would cost more memory than the log's keys).
    struct Run: Sendable {
        /// The run's last row.
        var throughID: Int64
        var entries: Int
        /// Every key whose current entry lies in the run has a label below this (``KeyTable/labelBound`` when the
        /// entries were written; `Int.max` when unknown). Once it is at most the oldest tracked label, every key of
        /// the run is gone and its rows can be deleted unread.
        var labelBound: Int
    }

    /// Entries in the log, current or superseded: the sum of the runs' entries, kept as it changes (every claim
    /// attempt asks for it).
    private(set) var entries = 0
    /// The committed rows after the last committed pass, oldest first.
    private(set) var runs: Deque<Run> = []
    /// Entries appended since the last compaction pass was planned.
    var appended = 0
    /// The last row covered by a planned pass (committed or not) and by a committed pass.
    var plannedThrough: Int64 = 0
    var committedThrough: Int64 = 0
    /// A pass is being planned (one at a time).
    var planning = false
    /// Bumped when a failed group abandons the plans: a claim from an older epoch is stale.
    var epoch = 0
    /// Passes attached to a group, by whether they read their rows.
    var passes = (unread: 0, read: 0)

    /// Whether the log holds so many superseded entries that a compaction pass is due: one that deletes rows unread
    /// when there are such rows.
    func needsCompaction(liveKeys: Int) -> Bool {
        entries > 2 * liveKeys + Self.minimumEntries
    }

    /// The entries above which a pass that reads its rows is due (when none can be deleted unread). Higher than
    /// ``needsCompaction(liveKeys:)``'s mark: with a fresh key on every event, each key's record and the removal of the
    /// key it evicts make two entries per key, so a log of twice the tracked keys ends where keys are still being
    /// evicted, and a pass reading there moved records that were about to go (docs/performance.md).
    static func readingThreshold(liveKeys: Int) -> Int {
        2 * liveKeys + minimumEntries + max(minimumEntries, liveKeys / 16)
    }

    /// Counts a committed row. It joins the newest run unless that run is full or already planned (a pass covers
    /// whole runs).
    mutating func appendRow(id: Int64, entries: Int, labelBound: Int) {
        self.entries += entries
        if var last = runs.last, last.throughID > plannedThrough, last.entries < Self.runEntries {
            last.throughID = id
            last.entries += entries
            last.labelBound = max(last.labelBound, labelBound)
            runs[runs.count - 1] = last
        } else {
            runs.append(Run(throughID: id, entries: entries, labelBound: labelBound))
        }
    }

    /// Forgets the runs a committed pass deleted.
    mutating func removeRuns(through id: Int64) {
        while let first = runs.first, first.throughID <= id {
            entries -= first.entries
            runs.removeFirst()
        }
        committedThrough = max(committedThrough, id)
    }

    /// The runs not yet covered by a planned pass.
    var unplannedRuns: some Sequence<Run> { runs.lazy.filter { $0.throughID > plannedThrough } }

    /// The longest run of rows not yet planned, from the oldest, whose keys are all gone (no tracked label is below
    /// `oldestLabel`), up to ``maximumDeadPass`` entries: the last row and the entries.
    func deadRows(oldestLabel: Int) -> (throughID: Int64, entries: Int)? {
        var through: Int64?
        var entries = 0
        for run in unplannedRuns {
            // At least one run, however large.
            guard run.labelBound <= oldestLabel, through == nil || entries + run.entries <= Self.maximumDeadPass else { break }
            through = run.throughID
            entries += run.entries
        }
        return through.map { ($0, entries) }
    }

    /// The last row of the next pass that reads its rows: whole runs, from the oldest not yet planned, until `budget`
    /// entries are reached.
    func claimEnd(budget: Int) -> Int64? {
        var end: Int64?
        var counted = 0
        for run in unplannedRuns {
            end = run.throughID
            counted += run.entries
            if counted >= budget { break }
        }
        return end
    }

    /// After a failed group put keys it had evicted back: their current entries lie in rows whose labels no longer
    /// bound them, so no row written so far may be deleted unread.
    mutating func forgetLabelBounds() {
        for index in runs.indices { runs[index].labelBound = .max }
    }

    // MARK: Encoding

    /// The most bytes an entry takes (a record entry with a 10-byte series varint).
    static let maximumEntrySize = 17 + 10 + CompactKeyRecordCodec.maximumSize + CompactKeyRecordCodec.maximumTracesSize

    /// Appends one entry: `record` for the key, or its removal when nil.
    static func append(hash: KeyHash, seriesID: Int64, record: KeyRecord?, to bytes: inout [UInt8]) {
        ByteWriter.append(to: &bytes, maximum: maximumEntrySize) {
            write(hash: hash, seriesID: seriesID, record: record, to: &$0)
        }
    }

    /// Writes one entry: `record` for the key, or its removal when nil.
    static func write(hash: KeyHash, seriesID: Int64, record: KeyRecord?, to writer: inout ByteWriter) {
        if let record {
            writeRecord(hash: hash, seriesID: seriesID, record: record, to: &writer)
        } else {
            writeRemoval(hash: hash, to: &writer)
        }
    }

    /// Writes a record entry (borrowing the record: the group's encoding passes it in place).
    static func writeRecord(hash: KeyHash, seriesID: Int64, record: borrowing KeyRecord, to writer: inout ByteWriter) {
        writer.byte(record.traces == nil ? 2 : 3)
        writer.raw(hash.high.bigEndian)
        writer.raw(hash.low.bigEndian)
        writer.varint(UInt64(bitPattern: seriesID))
        CompactKeyRecordCodec.write(record, to: &writer)
        if let traces = record.traces { CompactKeyRecordCodec.write(traces, to: &writer) }
    }

    /// Writes a removal entry (tag 4). A removal needs no series: replay forgets the key whatever its series. The
    /// series id that tag-0 removals carried was always 0, 8 of their 25 bytes (docs/performance.md).
    static func writeRemoval(hash: KeyHash, to writer: inout ByteWriter) {
        writer.byte(4)
        writer.raw(hash.high.bigEndian)
        writer.raw(hash.low.bigEndian)
    }

    /// A key forensics' series index as a dictionary key, hashed with ``HashMixing``: an `UInt32` key is hashed with
    /// SipHash, once per entry of a group (with a fresh key on every event, one per event; docs/performance.md).
    struct SeriesIndex: Hashable {
        let value: UInt32
        init(_ value: UInt32) { self.value = value }
        func _rawHashValue(seed: Int) -> Int { HashMixing.mix(Int(value), 0, seed: seed) }
    }

    /// The entries for a group's key-forensics changes (each batch's, in order), and how many there are.
    static func encode(_ changes: [KeyForensics.Changes], seriesID: (SeriesKey) -> Int64?) -> (bytes: [UInt8], count: Int) {
        let upperBound = changes.reduce(0) { $0 + $1.keys.count + $1.evictedKeys.count } * maximumEntrySize
        var count = 0
        // Series ids by the records' series index (key forensics' number for a series; a key hash belongs to one
        // series, which is hashed with the key): a group's keys name a few series, and finding each key's id by its
        // series' names copied and compared them per key.
        var seriesIDs: [SeriesIndex: Int64] = [:]
        let bytes = [UInt8](unsafeUninitializedCapacity: upperBound) { buffer, initialized in
            guard let base = buffer.baseAddress else { return }
            var writer = ByteWriter(base)
            // The changes are read in place: a copy of each would retain its series' names and its records' traces,
            // on the writer, for every entry of the group.
            for batch in changes {
                // Evictions first: a key the batch evicted and then created again is recorded after its removal.
                batch.evictedKeys.withUnsafeBufferPointer { evicted in
                    for index in evicted.indices {
                        writeRemoval(hash: evicted[index].key, to: &writer)
                    }
                }
                count += batch.evictedKeys.count
                batch.keys.withUnsafeBufferPointer { keys in
                    for index in keys.indices {
                        if let current = keys[index].current {
                            let known = seriesIDs[SeriesIndex(current.seriesIndex)]
                            guard let id = known ?? seriesID(batch.series(of: keys[index])) else { continue }
                            if known == nil { seriesIDs[SeriesIndex(current.seriesIndex)] = id }
                            writeRecord(hash: keys[index].key, seriesID: id, record: current, to: &writer)
                        } else {
                            writeRemoval(hash: keys[index].key, to: &writer)
                        }
                        count += 1
                    }
                }
            }
            initialized = writer.count
        }
        return (bytes, count)
    }

    /// Appends one row of entries to the log; returns its id.
    @discardableResult
    static func appendRow(_ bytes: [UInt8], db: Database) throws -> Int64 {
        let append = try BoundStatement(db, sql: "INSERT INTO key_log(records) VALUES (?)")
        append.bind(bytes, at: 1)
        try append.run()
        return db.lastInsertedRowID
    }

    // MARK: Decoding

    /// One decoded entry and where it lies in its blob.
    struct Entry {
        var hash: KeyHash
        var seriesID: Int64
        var record: KeyRecord?
        var range: Range<Int>
    }

    /// Calls `body` for each entry of `blob` in order; false when the blob is malformed (its entries up to the fault
    /// were delivered).
    @discardableResult
    static func forEachEntry(in blob: UnsafeRawBufferPointer, _ body: (Entry) throws -> Void) rethrows -> Bool {
        var offset = 0
        while offset < blob.count {
            guard blob.count - offset >= 17 else { return false }
            let start = offset
            let tag = blob[offset]
            let high = UInt64(bigEndian: blob.loadUnaligned(fromByteOffset: offset + 1, as: UInt64.self))
            let low = UInt64(bigEndian: blob.loadUnaligned(fromByteOffset: offset + 9, as: UInt64.self))
            let hash = KeyHash(high: high, low: low)
            offset += 17
            switch tag {
            case 4:
                // A removal: the tag and the hash, read above.
                try body(Entry(hash: hash, seriesID: 0, record: nil, range: start..<offset))
            case 0, 1:
                // A removal, or a record in the fixed 78-byte form (written by the v4 migration).
                guard blob.count - start >= (tag == 0 ? headerSize : recordEntrySize) else { return false }
                let seriesID = Int64(littleEndian: blob.loadUnaligned(fromByteOffset: offset, as: Int64.self))
                let record = tag == 0 ? nil : KeyRecordCodec.decode(blob, at: start + headerSize, seriesIndex: 0)
                offset = start + (tag == 0 ? headerSize : recordEntrySize)
                try body(Entry(hash: hash, seriesID: seriesID, record: record, range: start..<offset))
            case 2, 3:
                // A record in the compact form; with tag 3, followed by its traces.
                guard let seriesID = CompactKeyRecordCodec.varint(blob, &offset),
                    var record = CompactKeyRecordCodec.decode(blob, at: &offset)
                else { return false }
                if tag == 3 {
                    guard let traces = CompactKeyRecordCodec.decodeTraces(blob, at: &offset) else { return false }
                    record.traces = traces
                }
                try body(Entry(hash: hash, seriesID: Int64(bitPattern: seriesID), record: record, range: start..<offset))
            default:
                return false
            }
        }
        return true
    }
}
