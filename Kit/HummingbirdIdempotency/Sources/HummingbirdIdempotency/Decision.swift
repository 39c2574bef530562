import DedupVitalsReporter

/// The reported identity of one guarded request: what every decision about it carries to dedup-vitals.
struct Decision: Sendable {
    let service: String
    let operation: String
    /// The key as dedup-vitals sees it: prefixed with the caller, since keys are scoped by caller here (two
    /// callers' "order-42" are two keys), and digested when that is longer than the service accepts.
    let reportedKey: String
    let client: String?
    let fingerprint: String
    let trace: TraceContext?
    let recorder: (any DecisionRecorder)?

    init(
        service: String, operation: String, key: String, caller: String?, fingerprint: String, trace: TraceContext?,
        recorder: (any DecisionRecorder)?
    ) {
        self.service = service
        self.operation = operation
        let scoped = caller.map { "\($0)/\(key)" } ?? key
        self.reportedKey = scoped.utf8.count <= 255 ? scoped : "sha256:" + RequestFingerprint.digest(scoped)
        self.client = caller.flatMap { DecisionEvent.isValidName($0) ? $0 : nil }
        self.fingerprint = fingerprint
        self.trace = trace
        self.recorder = recorder
    }

    func report(_ outcome: DecisionOutcome, ageMs: Int64? = nil) {
        recorder?.record(DecisionEvent(
            service: service, operation: operation, outcome: outcome, key: reportedKey, payload: fingerprint,
            client: client, ageMs: ageMs.map { max(0, $0) }, trace: trace))
    }
}
