import DedupVitalsCore
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
/// a group: the kept entries are appended again and the rows read are deleted. Passes keep the log under about twice
/// the tracked keys.
/// Row ids never repeat (`AUTOINCREMENT`), so a pass resumes after the last row planned.
///
/// Entry layout: a tag byte, the 16-byte key hash (big-endian), then
/// - tag 0, a removal: the series id (Int64, little-endian);
/// - tag 2, a record: the series id as a varint and the record in ``CompactKeyRecordCodec``'s form (~40 bytes in all);
/// - tag 3, a record with the traces of its misses: as tag 2, then ``CompactKeyRecordCodec``'s trace section (entries
///   of keys reported without trace context stay tag 2, byte for byte as before);
/// - tag 1, a record as version 4's migration wrote it: the series id (Int64) and the 78 bytes of ``KeyRecordCodec``.
struct KeyLog: Sendable {
    static let headerSize = 25
    static let recordEntrySize = headerSize + KeyRecordCodec.size
    /// A typical compact record entry, for sizing buffers and compaction passes.
    static let typicalEntrySize = 40
    /// A log this small is never compacted.
    static let minimumEntries = 16_384
    /// The least a compaction pass looks at.
    static let minimumPass = 4_096
    /// The most a pass looks at, so that deciding which entries are current stays short under the committer's lock.
    static let maximumPass = 16_384

    /// Entries in the log, current or superseded.
    var entries = 0
    /// Entries appended since the last compaction pass was planned.
    var appended = 0
    /// The last row covered by a planned pass (committed or not) and by a committed pass.
    var plannedThrough: Int64 = 0
    var committedThrough: Int64 = 0
    /// A pass is being planned (one at a time).
    var planning = false
    /// Bumped when a failed group abandons the plans: a claim from an older epoch is stale.
    var epoch = 0

    /// Whether the log holds so many superseded entries that a compaction pass is due.
    func needsCompaction(liveKeys: Int) -> Bool {
        entries > 2 * liveKeys + Self.minimumEntries
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
        writer.byte(record == nil ? 0 : record?.traces == nil ? 2 : 3)
        writer.raw(hash.high.bigEndian)
        writer.raw(hash.low.bigEndian)
        if let record {
            writer.varint(UInt64(bitPattern: seriesID))
            CompactKeyRecordCodec.write(record, to: &writer)
            if let traces = record.traces { CompactKeyRecordCodec.write(traces, to: &writer) }
        } else {
            writer.raw(seriesID.littleEndian)
        }
    }

    /// The entries for a group's key-forensics changes (each batch's, in order), and how many there are.
    static func encode(_ changes: [KeyForensics.Changes], seriesID: (SeriesKey) -> Int64?) -> (bytes: [UInt8], count: Int) {
        let upperBound = changes.reduce(0) { $0 + $1.keys.count } * maximumEntrySize
        var count = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: upperBound) { buffer, initialized in
            guard let base = buffer.baseAddress else { return }
            var writer = ByteWriter(base)
            for change in changes.lazy.flatMap(\.keys) {
                if let record = change.current {
                    guard let seriesID = seriesID(change.series) else { continue }
                    write(hash: change.key, seriesID: seriesID, record: record, to: &writer)
                } else {
                    write(hash: change.key, seriesID: 0, record: nil, to: &writer)
                }
                count += 1
            }
            initialized = writer.count
        }
        return (bytes, count)
    }

    /// Appends one row of entries to the log.
    static func appendRow(_ bytes: [UInt8], db: Database) throws {
        let append = try BoundStatement(db, sql: "INSERT INTO key_log(records) VALUES (?)")
        append.bind(bytes, at: 1)
        try append.run()
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
