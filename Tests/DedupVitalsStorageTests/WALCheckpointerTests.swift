import DedupVitalsCore
import Foundation
import GRDB
import Testing

@testable import DedupVitalsStorage

/// WAL checkpoints off the writer (``WALCheckpointer``), on a real database file: commits never checkpoint, and the
/// WAL still stays bounded under sustained writes.
@Suite struct WALCheckpointerTests {
    /// One WAL frame: a 24-byte header and a page of SQLite's default size.
    static let frameBytes = 24 + 4_096

    /// Commits `count` groups of one idempotency record each (a 2 KB response body: a page or so per commit);
    /// calls `afterEach` with the WAL file's size after every commit.
    static func commit(
        _ store: DedupStore, count: Int, from first: Int = 0, afterEach: (Int) -> Void = { _ in }
    ) throws {
        let body = Data((0..<2_048).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        for n in first..<first + count {
            let record = IdempotencyRecord(
                scope: "test", key: "key-\(n)", response: StoredResponse(bodySHA256: Data(count: 32), status: 202, body: body))
            try store.write(BatchDelta(), forensics: [], idempotencyRecords: [record], createdAtMs: 0)
            afterEach(walBytes(store.path))
        }
    }

    static func walBytes(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path + "-wal"))?[.size] as? Int) ?? 0
    }

    @Test func aCommitNeverCheckpointsTheWAL() throws {
        let dir = try TemporaryDirectory()
        // A checkpointer that is never woken: only commits could checkpoint.
        let idle = WALCheckpointer.Limits(passiveStepPages: .max / 4, restartPages: .max / 4)
        let store = try DedupStore(path: dir.file("db.sqlite"), synchronous: .normal, checkpoints: idle)
        try Self.commit(store, count: 1_500)
        // SQLite's automatic checkpoint would have started the WAL over at 1,000 pages.
        let frames = Self.walBytes(store.path) / Self.frameBytes
        #expect(frames > 1_500, "WAL frames: \(frames)")
        #expect(store.checkpointer.done.passive == 0 && store.checkpointer.done.onWriter == 0)

        // The checkpointer's own pass copies them.
        store.checkpointer.passNow()
        #expect(store.checkpointer.done.passive == 1)
        let copied = try DatabaseQueue(path: store.path).writeWithoutTransaction { try $0.checkpoint(.passive) }
        #expect(copied.checkpointedFrameCount == copied.walFrameCount)
        try store.close()
    }

    @Test func theWALStaysBoundedUnderSustainedWritesAndKeepsEveryCommit() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("db.sqlite")
        let limits = WALCheckpointer.Limits(passiveStepPages: 50, restartPages: 200)
        let store = try DedupStore(path: path, synchronous: .normal, checkpoints: limits)
        var largest = 0
        // ~2 pages per commit: ~5,000 pages written, in rounds of 100 commits after each of which the passes the
        // round woke are let finish. The bound is the restart limit plus what is committed while a pass runs; a pass
        // syncs files, which takes milliseconds, while commits in a loop take microseconds: the rounds keep that
        // "while" to at most a round (~250 pages) however the threads are scheduled. A checkpoint on SQLite's own
        // schedule (1,000 pages) or none at all would exceed it.
        for round in 0..<25 {
            try Self.commit(store, count: 100, from: round * 100) { largest = max(largest, $0) }
            store.checkpointer.drain()
        }
        #expect(largest > 0)
        #expect(largest <= 4 * 200 * Self.frameBytes, "largest WAL: \(largest / Self.frameBytes) frames")
        let done = store.checkpointer.done
        #expect(done.passive > 10 && done.onWriter > 2 && done.failed == 0, "\(done)")
        try store.close()
        // The final checkpoint at shutdown still empties the WAL.
        #expect(Self.walBytes(path) == 0)

        let rows = try DatabaseQueue(path: path).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM ingest_requests") }
        #expect(rows == 2_500)
    }

    /// A checkpoint that finds the database busy (SQLite answers so at once when a commit is rewriting the WAL
    /// index's header) is tried again, up to ``WALCheckpointer/busyAttempts`` times; other errors are not retried.
    @Test func aBusyCheckpointIsTriedAgainAFewTimes() throws {
        let dir = try TemporaryDirectory()
        let store = try DedupStore(path: dir.file("db.sqlite"), synchronous: .normal)
        let checkpointer = store.checkpointer
        let before = checkpointer.done.retried
        var calls = 0
        let value = try checkpointer.retryingWhenBusy { () throws -> Int in
            calls += 1
            if calls < 3 { throw DatabaseError(resultCode: .SQLITE_BUSY) }
            return 42
        }
        #expect(value == 42 && calls == 3)
        #expect(checkpointer.done.retried == before + 2)

        calls = 0
        #expect(throws: DatabaseError.self) {
            try checkpointer.retryingWhenBusy { () throws -> Int in
                calls += 1
                throw DatabaseError(resultCode: .SQLITE_BUSY)
            }
        }
        #expect(calls == WALCheckpointer.busyAttempts)

        calls = 0
        #expect(throws: DatabaseError.self) {
            try checkpointer.retryingWhenBusy { () throws -> Int in
                calls += 1
                throw DatabaseError(resultCode: .SQLITE_IOERR)
            }
        }
        #expect(calls == 1)
        try store.close()
    }
}
