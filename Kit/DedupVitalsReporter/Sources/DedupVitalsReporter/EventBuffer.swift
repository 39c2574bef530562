import Synchronization

/// The bounded buffer between `record` (any thread, never blocking for longer than a short lock) and the one
/// sender task, together with the reporter's statistics, which change under the same lock.
final class EventBuffer: Sendable {
    enum Admission {
        case accepted
        case full
        case closed
    }

    private struct State {
        var events: [DecisionEvent] = []
        var firstEnqueuedAt: ContinuousClock.Instant?
        var statistics = ReporterStatistics()
        var closed = false
    }

    let capacity: Int
    let batchSize: Int
    let wakeup = Wakeup()
    private let state = Mutex(State())

    init(capacity: Int, batchSize: Int) {
        self.capacity = max(1, capacity)
        self.batchSize = max(1, batchSize)
        state.withLock { $0.events.reserveCapacity(min(self.capacity, 4096)) }
    }

    /// Appends `event` unless the buffer is full or closed; wakes the sender when the buffer stops being empty and
    /// when it holds a full batch.
    func append(_ event: DecisionEvent) -> Admission {
        let (admission, wake) = state.withLock { state -> (Admission, Bool) in
            if state.closed {
                state.statistics.dropped["shutdown", default: 0] += 1
                return (.closed, false)
            }
            guard state.events.count < capacity else {
                state.statistics.dropped["buffer_full", default: 0] += 1
                return (.full, false)
            }
            state.events.append(event)
            state.statistics.recorded += 1
            let count = state.events.count
            if count == 1 { state.firstEnqueuedAt = .now }
            return (.accepted, count == 1 || count == batchSize)
        }
        if wake { wakeup.signal() }
        return admission
    }

    /// Removes and returns up to one batch of the oldest events.
    func takeBatch() -> [DecisionEvent] {
        state.withLock { state in
            let batch: [DecisionEvent]
            if state.events.count <= batchSize {
                batch = state.events
                state.events.removeAll(keepingCapacity: true)
                state.firstEnqueuedAt = nil
            } else {
                batch = Array(state.events.prefix(batchSize))
                state.events.removeFirst(batchSize)
                state.firstEnqueuedAt = .now
            }
            state.statistics.bufferDepth = state.events.count
            return batch
        }
    }

    /// How many events wait, and since when the oldest of them has waited.
    var pending: (count: Int, since: ContinuousClock.Instant?) {
        state.withLock { ($0.events.count, $0.firstEnqueuedAt) }
    }

    /// Refuses further events; returns how many were still waiting (now dropped as `shutdown`).
    func close() -> Int {
        state.withLock { state in
            state.closed = true
            let left = state.events.count
            state.events.removeAll()
            state.firstEnqueuedAt = nil
            state.statistics.bufferDepth = 0
            if left > 0 { state.statistics.dropped["shutdown", default: 0] += left }
            return left
        }
    }

    func updateStatistics(_ change: (inout ReporterStatistics) -> Void) {
        state.withLock { change(&$0.statistics) }
    }

    var statistics: ReporterStatistics {
        state.withLock { state in
            var statistics = state.statistics
            statistics.bufferDepth = state.events.count
            return statistics
        }
    }
}
