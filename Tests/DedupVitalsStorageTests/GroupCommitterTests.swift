import DedupVitalsCore
import Foundation
import Synchronization
import Testing

@testable import DedupVitalsStorage

/// The group committer's preparation, with batches slow to prepare: a request that finds the preparation lock held
/// leaves its batch to the thread that holds it. Every batch is still prepared exactly once, refused ones fail alone,
/// and closing fails the ones still waiting rather than leaving them hanging.
@Suite(.timeLimit(.minutes(1))) struct GroupCommitterTests {
    /// Records what it prepares and what is committed; refuses batches whose event count is a multiple of 7, and
    /// takes `prepareMicroseconds` to prepare one, 50 ms for the first one (while the other requests arrive and find
    /// the preparation lock held).
    final class SlowParticipant: CommitParticipant {
        struct Refused: Error {}
        let prepareMicroseconds: UInt32
        let prepared = Mutex<[Int]>([])
        let committedEvents = Mutex(0)
        /// The misses in the committed groups' cells: a group's batches merged into one delta lose or double none.
        let committedMisses = Mutex<Int64>(0)

        init(prepareMicroseconds: UInt32) {
            self.prepareMicroseconds = prepareMicroseconds
        }

        func admit(_ delta: BatchDelta) throws {
            if delta.eventCount % 7 == 0 { throw Refused() }
        }

        func prepare(_ delta: inout BatchDelta) -> KeyForensics.Changes? {
            let first = prepared.withLock { $0.isEmpty }
            usleep(first ? 50_000 : prepareMicroseconds)
            prepared.withLock { $0.append(delta.eventCount) }
            return nil
        }

        func committed(_ group: BatchDelta, changes: [KeyForensics.Changes]) {
            committedEvents.withLock { $0 += group.eventCount }
            committedMisses.withLock { total in for counts in group.cells.values { total += counts.miss } }
        }

        func failed(_ group: BatchDelta, changes: [KeyForensics.Changes]) {}
    }

    static func batch(events count: Int) -> GroupCommitter.Batch {
        let events = (0..<count).map { n in
            Event(service: "payments", operation: "refund", outcome: .miss, timeMs: 1_800_000_000_000 + Int64(n))
        }
        return .init(delta: BatchDelta(events: events, receivedAtMs: 1_800_000_000_000, bucketWidthMs: 10_000))
    }

    @Test func everyBatchIsPreparedOnceWhoeverPreparesIt() async throws {
        let dir = try TemporaryDirectory()
        let store = try DedupStore(path: dir.file("db.sqlite"))
        let participant = SlowParticipant(prepareMicroseconds: 200)
        let committer = GroupCommitter(store: store, clock: { 0 }, participant: participant, keyLiveness: nil)
        let sizes = Array(1...60)
        let results = await withTaskGroup(of: (Int, Bool).self) { group in
            for size in sizes {
                group.addTask { (size, (try? await committer.commit(Self.batch(events: size))) != nil) }
            }
            return await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
        }
        #expect(results.count == sizes.count)
        for size in sizes { #expect(results[size] == (size % 7 != 0), "batch of \(size)") }
        // Refused batches are not prepared; every other one exactly once.
        #expect(participant.prepared.withLock { $0 }.sorted() == sizes.filter { $0 % 7 != 0 })
        #expect(participant.committedEvents.withLock { $0 } == sizes.filter { $0 % 7 != 0 }.reduce(0, +))
        #expect(participant.committedMisses.withLock { $0 } == Int64(sizes.filter { $0 % 7 != 0 }.reduce(0, +)))
        await committer.close()
        try store.close()
    }

    @Test func closingFailsTheBatchesStillWaitingInsteadOfLeavingThemHanging() async throws {
        let dir = try TemporaryDirectory()
        let store = try DedupStore(path: dir.file("db.sqlite"))
        let participant = SlowParticipant(prepareMicroseconds: 1_000)
        let committer = GroupCommitter(store: store, clock: { 0 }, participant: participant, keyLiveness: nil)
        let outcomes = await withTaskGroup(of: Result<Void, any Error>.self) { group in
            for size in 1...40 where size % 7 != 0 {
                group.addTask {
                    do {
                        try await committer.commit(Self.batch(events: size))
                        return .success(())
                    } catch {
                        return .failure(error)
                    }
                }
            }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(10))
                await committer.close()
                return .success(())
            }
            return await group.reduce(into: [Result<Void, any Error>]()) { $0.append($1) }
        }
        // Every request got an answer: committed, or refused because the service is shutting down.
        let failures = outcomes.compactMap { outcome -> (any Error)? in
            if case .failure(let error) = outcome { return error }
            return nil
        }
        for failure in failures {
            guard case StorageError.unavailable(let reason) = failure else {
                Issue.record("unexpected error: \(failure)")
                continue
            }
            #expect(reason.contains("shutting down"))
        }
        // What was acknowledged was committed.
        let acknowledged = participant.prepared.withLock { $0 }.reduce(0, +)
        #expect(participant.committedEvents.withLock { $0 } == acknowledged)
        await #expect(throws: StorageError.self) { try await committer.commit(Self.batch(events: 1)) }
        try store.close()
    }
}
