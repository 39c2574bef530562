import DedupVitalsCore
import Foundation
import GRDB
import Synchronization

/// Compaction of the key log (see ``KeyLog``), in one place: a pass is **claimed**, **planned**, **applied** with a
/// group's transaction, and either **committed** with it or **abandoned** when the group fails.
///
/// 1. ``claim(liveKeys:)`` — on a request thread, holding no lock of the group committer: when the log holds more
///    than about twice the tracked keys, reads the oldest rows not yet planned and decodes their records.
/// 2. ``plan(_:current:)`` — under the committer's lock: the in-memory key forensics says which of the claimed records
///    are still their key's record; those move to the end of the log, the claimed rows go. A pass is valid only for
///    the group being prepared when currency is decided (every later change of a key follows the moved entries).
///    ``finish(_:attached:)`` ends the claim either way.
/// 3. ``apply(_:in:)`` — in the group's transaction, before the group's own entries.
/// 4. ``committed(_:appendedEntries:)`` after the transaction, or ``abandon()`` when it failed: a failed group
///    starts a new epoch, so that claims made before it are dropped and their rows are claimed again.
///
/// ``runPass(liveness:attach:)`` runs steps 1 and 2 as the group committer needs them. One pass is planned at a time.
/// Lock order: the committer's lock, then this component's (never the other way).
public final class KeyLogCompactor: Sendable {
    /// Rows claimed for a pass, read and decoded: the records among them are the candidates whose currency the
    /// in-memory key forensics decides.
    public struct Claim: Sendable {
        /// The rows after this id are claimed.
        var after: Int64
        var budget: Int
        /// The epoch when the rows were claimed (a failed group starts a new one).
        var epoch: Int
        var rows: [(id: Int64, blob: Data)] = []
        /// The stored records, in log order.
        public internal(set) var candidates: [(hash: KeyHash, record: KeyRecord)] = []
        /// Where each candidate lies in its row's blob, and where each row's candidates end.
        var ranges: [Range<Int>] = []
        var blobEnds: [Int] = []
        /// Entries in the claimed rows (records and removals).
        var read = 0
    }

    /// One planned pass: the rows it covers, and the entries among them that are still current and move to the end
    /// of the log. Written with a group's transaction.
    public struct Pass: Sendable {
        /// Rows up to this id are deleted.
        var throughID: Int64
        /// The current entries of those rows, concatenated.
        var moved: [UInt8] = []
        /// How many entries the rows held, and how many of them are kept.
        var read = 0
        var kept = 0
    }

    private let pool: DatabasePool
    /// The log's bookkeeping: its size and how far passes reach.
    private let log = Mutex(KeyLog())

    init(pool: DatabasePool) {
        self.pool = pool
    }

    /// Entries in the key log, current or superseded.
    var entries: Int { log.withLock { $0.entries } }

    /// Starts the bookkeeping of a log just replayed from the database.
    func loaded(entries: Int) {
        log.withLock { $0 = KeyLog(entries: entries, appended: 0) }
    }

    /// Counts entries appended outside a group (removals logged by pruning).
    func logged(entries: Int) {
        log.withLock { $0.entries += entries }
    }

    /// Steps 1 and 2 for the group committer: claims a pass when one is due, and lets `attach` put its plan into the
    /// group being prepared. `attach` runs under the committer's lock; it gets a function that plans the pass (nil
    /// when the claim went stale) and returns whether the plan was attached.
    public func runPass(liveness: some KeyLiveness, attach: (_ plan: () -> Pass?) -> Bool) {
        guard let claim = claim(liveKeys: liveness.trackedKeyCount) else { return }
        let attached = attach {
            guard isValid(claim) else { return nil }
            return plan(claim, current: liveness.areCurrent(claim.candidates))
        }
        finish(claim, attached: attached)
    }

    // MARK: 1. Claim

    /// Claims the next pass when the log holds more than about twice the tracked keys and no other pass is being
    /// planned: reads the oldest rows not yet planned (at least twice what was appended since the last plan) and
    /// decodes their records. Reads committed rows only. The claim must be ended with ``finish(_:attached:)``.
    func claim(liveKeys: Int) -> Claim? {
        let claim = log.withLock { log -> Claim? in
            guard !log.planning, log.needsCompaction(liveKeys: liveKeys) else { return nil }
            log.planning = true
            return Claim(
                after: log.plannedThrough, budget: min(max(2 * log.appended, KeyLog.minimumPass), KeyLog.maximumPass),
                epoch: log.epoch)
        }
        guard var claim else { return nil }
        let rows: [(id: Int64, blob: Data)]?
        do {
            rows = try pool.read { db in
                var rows: [(id: Int64, blob: Data)] = []
                var counted = 0
                let cursor = try Row.fetchCursor(
                    db, sql: "SELECT id, records FROM key_log WHERE id > ? ORDER BY id", arguments: [claim.after])
                while counted < claim.budget, let row = try cursor.next() {
                    let blob: Data = row[1]
                    rows.append((row[0], blob))
                    counted += blob.count / KeyLog.typicalEntrySize + 1
                }
                return rows
            }
        } catch {
            // The rows could not be read: a later request claims them again (the failure surfaces on the writer).
            rows = nil
        }
        guard let rows, !rows.isEmpty else {
            log.withLock { $0.planning = false }
            return nil
        }
        claim.rows = rows
        for (_, blob) in claim.rows {
            _ = blob.withUnsafeBytes { bytes in
                KeyLog.forEachEntry(in: bytes) { entry in
                    claim.read += 1
                    guard let record = entry.record else { return }
                    claim.candidates.append((entry.hash, record))
                    claim.ranges.append(entry.range)
                }
            }
            claim.blobEnds.append(claim.candidates.count)
        }
        return claim
    }

    // MARK: 2. Plan

    /// Whether a claim may still be planned: no failed group abandoned the plans since (the rows before it might hold
    /// entries that a failed pass did not move).
    func isValid(_ claim: Claim) -> Bool {
        log.withLock { $0.epoch == claim.epoch }
    }

    /// The pass of a claim: the claimed rows go, and the entries `current` confirms (one flag per candidate, from the
    /// in-memory key forensics) move to the end of the log.
    func plan(_ claim: Claim, current: [Bool]) -> Pass {
        var pass = Pass(throughID: claim.rows.last?.id ?? claim.after, read: claim.read)
        var candidate = 0
        for ((_, blob), end) in zip(claim.rows, claim.blobEnds) {
            while candidate < end {
                if current[candidate] {
                    pass.moved.append(contentsOf: blob[claim.ranges[candidate]])
                    pass.kept += 1
                }
                candidate += 1
            }
        }
        return pass
    }

    /// Ends a claim. When its pass was attached to a group, the next claim starts after its rows; otherwise they are
    /// claimed again.
    func finish(_ claim: Claim, attached: Bool) {
        log.withLock { log in
            log.planning = false
            guard attached, log.epoch == claim.epoch, let through = claim.rows.last?.id else { return }
            log.plannedThrough = through
            log.appended = 0
        }
    }

    // MARK: 3. Apply

    /// Writes a pass inside a group's transaction, before the group's own entries (which must follow the moved ones).
    static func apply(_ pass: Pass, in db: Database) throws {
        try db.execute(sql: "DELETE FROM key_log WHERE id <= ?", arguments: [pass.throughID])
        if pass.kept > 0 { try KeyLog.appendRow(pass.moved, db: db) }
    }

    // MARK: 4. Commit or abandon

    /// A group's transaction committed, with its own `appendedEntries` and perhaps a pass.
    func committed(_ pass: Pass?, appendedEntries: Int) {
        guard appendedEntries > 0 || pass != nil else { return }
        log.withLock { log in
            log.entries += appendedEntries
            log.appended += appendedEntries
            if let pass {
                log.entries += pass.kept - pass.read
                log.committedThrough = pass.throughID
            }
        }
    }

    /// Forgets the passes planned but not committed (their group failed), so that their rows are planned again.
    /// Called under the group committer's lock.
    func abandon() {
        log.withLock { log in
            log.plannedThrough = log.committedThrough
            log.epoch += 1
        }
    }
}
