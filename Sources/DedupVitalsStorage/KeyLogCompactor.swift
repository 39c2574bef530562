import DedupVitalsCore
import Foundation
import GRDB
import Synchronization

/// Compaction of the key log (see ``KeyLog``), in one place: a pass is **claimed**, **planned**, **applied** with a
/// group's transaction, and either **committed** with it or **abandoned** when the group fails.
///
/// 1. ``claim(liveKeys:oldestLabel:)`` — on a request thread, holding no lock of the group committer: when the log
///    holds more than about twice the tracked keys, takes the oldest rows not yet planned. When all their keys are
///    gone it reads nothing (below); otherwise, once the log is above a higher mark
///    (``KeyLog/readingThreshold(liveKeys:)``), it reads the rows and decodes their records.
/// 2. ``plan(_:current:labelBound:)`` — under the committer's lock: the in-memory key forensics says which of the claimed records
///    are still their key's record; those move to the end of the log, the claimed rows go. A pass is valid only for
///    the group being prepared when currency is decided (every later change of a key follows the moved entries).
///    ``finish(_:attached:)`` ends the claim either way.
/// 3. ``apply(_:in:)`` — in the group's transaction, before the group's own entries.
/// 4. ``committed(_:appendedEntries:)`` after the transaction, or ``abandon()`` when it failed: a failed group
///    starts a new epoch, so that claims made before it are dropped and their rows are claimed again.
///
/// ``runPass(liveness:attach:)`` runs steps 1 and 2 as the group committer needs them. One pass is planned at a time.
/// Lock order: the committer's lock, then this component's (never the other way).
///
/// **Rows deleted unread.** The key table numbers its keys in creation order (``KeyTable/oldestLabel``), evicts the
/// oldest first, and a key's label never rises while it is tracked. Each row is counted with the table's label bound
/// when its entries were written, so once that bound is at most the oldest tracked label, every key with an entry in
/// the row is gone and the row holds no current entry. With a fresh key on every event (the table at its cap), the
/// rows a pass reaches are such rows: reading them and deciding their entries was over a quarter of the service's
/// samples (docs/performance.md). Deleting only a prefix of the log keeps it safe: a key's later entries (a removal, a new
/// record) lie after the deleted ones. A failed group is the exception: rolling back puts the keys it evicted back as
/// the newest, while their current entries lie in old rows; ``abandon()`` therefore makes every row written so far
/// one that must be read.
public final class KeyLogCompactor: Sendable {
    /// Rows claimed for a pass, read and decoded: the records among them are the candidates whose currency the
    /// in-memory key forensics decides.
    public struct Claim: Sendable {
        /// The rows after this id, through `through`, are claimed.
        var after: Int64
        var through: Int64
        /// Every key of the rows is gone: none was read (``candidates`` is empty).
        var unread = false
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
        /// The label bound of the moved entries' keys (see ``KeyLog/Run``).
        var labelBound = Int.max
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
    func loaded(_ replayed: KeyLog) {
        log.withLock { $0 = replayed }
    }

    /// Counts a row appended outside a group (removals logged by pruning: no record, so no label bound).
    func logged(rowID: Int64, entries: Int) {
        log.withLock { $0.appendRow(id: rowID, entries: entries, labelBound: .min) }
    }

    /// The log's runs of rows (for tests).
    var runs: [KeyLog.Run] { log.withLock { Array($0.runs) } }

    /// Passes attached so far, by whether they read their rows (for tests).
    var passes: (unread: Int, read: Int) { log.withLock { $0.passes } }

    /// Steps 1 and 2 for the group committer: claims a pass when one is due, and lets `attach` put its plan into the
    /// group being prepared. `attach` runs under the committer's lock; it gets a function that plans the pass (nil
    /// when the claim went stale) and returns whether the plan was attached.
    public func runPass(liveness: some KeyLiveness, attach: (_ plan: () -> Pass?) -> Bool) {
        let (liveKeys, oldestLabel) = liveness.trackedKeys
        guard let claim = claim(liveKeys: liveKeys, oldestLabel: oldestLabel) else { return }
        let attached = attach {
            guard isValid(claim) else { return nil }
            guard !claim.unread else { return plan(claim, current: [], labelBound: .min) }
            return plan(claim, current: liveness.areCurrent(claim.candidates), labelBound: liveness.keyLabelBound)
        }
        finish(claim, attached: attached)
    }

    // MARK: 1. Claim

    /// Claims the next pass when the log holds more than about twice the tracked keys and no other pass is being
    /// planned. When the oldest rows not yet planned hold only keys whose labels are below `oldestLabel` (the oldest
    /// tracked key's, nil: not known), the claim is those rows, unread. Otherwise it reads the oldest rows not yet
    /// planned (at least twice what was appended since the last plan) and decodes their records. Claims committed
    /// rows only. The claim must be ended with ``finish(_:attached:)``.
    func claim(liveKeys: Int, oldestLabel: Int? = nil) -> Claim? {
        let claim = log.withLock { log -> Claim? in
            guard !log.planning, log.needsCompaction(liveKeys: liveKeys) else { return nil }
            if let oldestLabel, let dead = log.deadRows(oldestLabel: oldestLabel) {
                log.planning = true
                return Claim(
                    after: log.plannedThrough, through: dead.throughID, unread: true, epoch: log.epoch, read: dead.entries)
            }
            guard log.entries > KeyLog.readingThreshold(liveKeys: liveKeys) else { return nil }
            let budget = min(max(2 * log.appended, KeyLog.minimumPass), KeyLog.maximumPass)
            guard let through = log.claimEnd(budget: budget) else { return nil }
            log.planning = true
            return Claim(after: log.plannedThrough, through: through, epoch: log.epoch)
        }
        guard var claim else { return nil }
        guard !claim.unread else { return claim }
        let rows: [(id: Int64, blob: Data)]?
        do {
            rows = try pool.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT id, records FROM key_log WHERE id > ? AND id <= ? ORDER BY id",
                    arguments: [claim.after, claim.through]
                ).map { ($0[0], $0[1]) }
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
    /// in-memory key forensics) move to the end of the log. `labelBound` bounds the labels of the tracked keys now
    /// (``KeyTable/labelBound``).
    func plan(_ claim: Claim, current: [Bool], labelBound: Int) -> Pass {
        var pass = Pass(throughID: claim.through, labelBound: labelBound, read: claim.read)
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
            guard attached, log.epoch == claim.epoch else { return }
            log.plannedThrough = claim.through
            log.appended = 0
            if claim.unread { log.passes.unread += 1 } else { log.passes.read += 1 }
        }
    }

    // MARK: 3. Apply

    /// Writes a pass inside a group's transaction, before the group's own entries (which must follow the moved ones).
    /// Returns the id of the row of moved entries, if any.
    static func apply(_ pass: Pass, in db: Database) throws -> Int64? {
        try db.execute(sql: "DELETE FROM key_log WHERE id <= ?", arguments: [pass.throughID])
        return pass.kept > 0 ? try KeyLog.appendRow(pass.moved, db: db) : nil
    }

    // MARK: 4. Commit or abandon

    /// The row of a group's own entries.
    struct AppendedRow: Sendable {
        var id: Int64
        var entries: Int
        /// The largest ``KeyForensics/Changes/labelBound`` of the group's batches.
        var labelBound: Int
    }

    /// A group's transaction committed, with perhaps a pass (whose moved entries went to row `movedRowID`) and its own
    /// row of entries.
    func committed(_ pass: Pass?, movedRowID: Int64?, appended: AppendedRow?) {
        guard appended != nil || pass != nil else { return }
        log.withLock { log in
            if let pass {
                log.removeRuns(through: pass.throughID)
                if let movedRowID { log.appendRow(id: movedRowID, entries: pass.kept, labelBound: pass.labelBound) }
            }
            if let appended {
                log.appendRow(id: appended.id, entries: appended.entries, labelBound: appended.labelBound)
                log.appended += appended.entries
            }
        }
    }

    /// Forgets the passes planned but not committed (their group failed), so that their rows are planned again, and
    /// makes every row so far one to read (the group's rollback put back keys it had evicted, see the type's
    /// comment). Called under the group committer's lock.
    func abandon() {
        log.withLock { log in
            log.plannedThrough = log.committedThrough
            log.epoch += 1
            log.forgetLabelBounds()
        }
    }
}
