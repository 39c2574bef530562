import DedupVitalsCore
import DedupVitalsStorage

/// The write path: the one owner of what happens to a batch of events between its decoding and its
/// acknowledgement. Every ingest protocol decodes its own wire format and hands the events to ``submit(_:)``;
/// nothing else writes events.
///
/// A batch takes these steps, in this order:
/// 1. **decode** — by the protocol adapter (`POST /v1/events`: ``IngestController`` with ``EventDecoder``);
/// 2. **authorise** — every service of the batch is in the caller's token scope (403);
/// 3. **admit limits** — the caller's rate limit (429);
/// 4. **prepare deltas** — the batch's bucket aggregates, client cells and keyed events (``BatchDelta``);
/// 5. **group commit** — in commit order, under the committer's lock: the series limit (429) and the client cap
///    against what is pending, then key forensics (``LiveCommitSteps``); one transaction for the whole group
///    (``GroupCommitter``);
/// 6. **settle live state** — the writer applies the committed group to the windows, or rolls back a failed one,
///    and settles the pending admissions (``PendingAdmissions``), before the request resumes;
/// 7. **acknowledge** — by the adapter (202 for `/v1/events`), only after step 6: an acknowledged event is on disk.
public final class IngestPipeline: Sendable {
    /// One decoded batch and who sent it.
    struct Submission: Sendable {
        var events: [Event]
        var receivedAtMs: Int64
        var caller: Credentials.Caller?
        /// The response to store for the request's `Idempotency-Key`, committed in the same transaction.
        var idempotencyRecord: IdempotencyRecord?
    }

    let committer: GroupCommitter
    /// `limits.max_series` (a reload changes it).
    let seriesLimit: SeriesLimit
    private let callers: CallerAdmission
    private let hasher: KeyHasher
    private let bucketWidthMs: Int64

    init(store: DedupStore, state: LiveState, maxSeries: Int, hasher: KeyHasher, clock: @escaping @Sendable () -> Int64) {
        seriesLimit = SeriesLimit(maxSeries)
        let pending = state.withClients {
            PendingAdmissions(callers: $0.callerNames, maxClientsPerSeries: $0.maxClientsPerSeries)
        }
        let steps = LiveCommitSteps(state: state, pending: pending, maxSeries: seriesLimit)
        committer = GroupCommitter(store: store, clock: clock, participant: steps, keyLiveness: steps)
        callers = CallerAdmission(counters: state.counters.limits)
        self.hasher = hasher
        bucketWidthMs = state.withWindows { $0.bucketWidthMs }
    }

    /// Runs a decoded batch through steps 2 to 6; returns once every event of it is durable and in the live state.
    /// Throws the refusal to answer (nothing of the batch was stored then).
    func submit(_ submission: Submission) async throws(APIError) {
        let enteredAtNs = CommitStatistics.now()
        try callers.authorise(submission.events, caller: submission.caller)
        try callers.admitRate(submission.events, caller: submission.caller)
        let delta = BatchDelta(
            events: submission.events, receivedAtMs: submission.receivedAtMs, bucketWidthMs: bucketWidthMs, hasher: hasher)
        do {
            try await committer.commit(
                .init(delta: delta, idempotencyRecord: submission.idempotencyRecord, enteredAtNs: enteredAtNs))
        } catch let refusal as SeriesLimitExceeded {
            throw refusal.apiError
        } catch {
            throw .storageUnavailable(error)
        }
    }
}
