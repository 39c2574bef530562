import DedupVitalsCore
import DedupVitalsStorage

/// The in-memory side of the group commit: what ``IngestPipeline``'s commit and settle steps do to the live state,
/// in the order ``GroupCommitter`` calls them (see ``CommitParticipant``).
struct LiveCommitSteps: CommitParticipant, KeyLiveness {
    let state: LiveState
    let pending: PendingAdmissions
    /// `limits.max_series`, changed by a reload.
    let maxSeries: SeriesLimit

    /// The series limit, against the live windows and the pending admissions.
    func admit(_ delta: BatchDelta) throws {
        try pending.admitSeries(of: delta, in: state, maxSeries: maxSeries.value)
    }

    /// The client cap, then the key-forensics detectors (which change the tracked keys now: a failed group rolls
    /// them back in ``failed(_:changes:)``).
    func prepare(_ delta: inout BatchDelta) -> KeyForensics.Changes? {
        // The forensic events first: a batch admitted unchecked is kept until its group is settled, without them.
        let forensicEvents = delta.takeForensicEvents()
        pending.admitClients(of: &delta, in: state)
        guard !forensicEvents.isEmpty else { return nil }
        return state.runForensics(forensicEvents)
    }

    /// The group is on disk: the windows and clients take it, then its admissions are settled (in that order, so
    /// that the limits never see a new series in neither place).
    func committed(_ group: BatchDelta, changes: [KeyForensics.Changes]) {
        state.apply(group)
        state.settled(changes)
        pending.settle(group)
    }

    func failed(_ group: BatchDelta, changes: [KeyForensics.Changes]) {
        state.rollback(changes)
        state.settled(changes)
        pending.settle(group)
    }

    var trackedKeys: (count: Int, oldestLabel: Int) { state.trackedKeys }

    var keyLabelBound: Int { state.withForensics { $0.table.labelBound } }

    func areCurrent(_ entries: [(hash: KeyHash, record: KeyRecord)]) -> [Bool] {
        state.withForensics { $0.areCurrent(entries) }
    }
}
