import DedupVitalsCore

/// What the owner of the write path does around each group's transaction: the seam between ``GroupCommitter`` and
/// the in-memory state it keeps in step with the database.
///
/// The committer calls these in a fixed order. For each batch, in commit order and under the committer's lock:
/// ``admit(_:)``, then ``prepare(_:)``. For each group, on the writer: ``committed(_:changes:)`` after the transaction,
/// before the requests resume; or, when the transaction failed, ``failed(_:changes:)`` for that group and the one
/// prepared on top of it, newest first, under the committer's lock.
public protocol CommitParticipant: Sendable {
    /// The admission gate (e.g. the series limit): throwing refuses the batch with that error, and nothing of it is
    /// prepared or written.
    func admit(_ delta: BatchDelta) throws
    /// May change the batch (client caps) and returns the key-forensics changes to persist with it, whose detections
    /// the group counts.
    func prepare(_ delta: inout BatchDelta) -> KeyForensics.Changes?
    /// Applies a committed group to the in-memory state (`changes`: its batches' key-forensics changes, in commit
    /// order, now settled).
    func committed(_ group: BatchDelta, changes: [KeyForensics.Changes])
    /// Undoes what ``prepare(_:)`` changed in memory for a group whose transaction failed (`changes` newest first).
    func failed(_ group: BatchDelta, changes: [KeyForensics.Changes])
}

/// What key-log compaction asks of the in-memory key forensics (see ``KeyLogCompactor``).
public protocol KeyLiveness: Sendable {
    /// How many keys are tracked in memory, and the label of the oldest (``KeyTable/oldestLabel``).
    var trackedKeys: (count: Int, oldestLabel: Int) { get }
    /// A bound of every tracked key's label (``KeyTable/labelBound``).
    var keyLabelBound: Int { get }
    /// For each stored record, whether it is still the current record of its key in memory.
    func areCurrent(_ entries: [(hash: KeyHash, record: KeyRecord)]) -> [Bool]
}
