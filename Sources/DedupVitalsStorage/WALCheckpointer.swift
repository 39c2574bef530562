import Dispatch
import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// Checkpoints the WAL off the writer.
///
/// SQLite's automatic checkpoint (`wal_autocheckpoint`, every 1,000 pages) runs inside the commit that crosses the
/// threshold, on the committing connection. With one writer serving every request (``GroupCommitter``), that meant one
/// commit group in every few hundred also copied the WAL's pages into the database file and synced both files, and
/// the requests of that group and of the group waiting behind it were answered late: part of the p99 of ingest
/// (docs/performance.md, "Checkpoints").
///
/// Instead, the writer connection's WAL hook (which is what the automatic checkpoint is, so installing it turns that
/// off) only counts: each time the WAL has grown by ``Limits/passiveStepPages`` it wakes this type's thread, which
/// runs a PASSIVE checkpoint on a connection of its own. That copies pages while the writer goes on committing.
///
/// **The bound.** A passive checkpoint copies the frames that were committed when it started, and SQLite writes the WAL
/// from its beginning again only when a write transaction begins with every frame copied, which under sustained
/// commits never happens by itself. So once the WAL holds ``Limits/restartPages``, the thread follows its passive
/// checkpoint with one through the writer connection, between two commit groups: it copies only what was committed
/// during the passive one, and the next group starts the WAL over. That one is PASSIVE too, so it never waits for a
/// reader; a reader still on older frames can keep the WAL from starting over, and at twice ``Limits/restartPages``
/// it is a RESTART, which waits for such readers (up to the busy timeout). The WAL file therefore stays under
/// ``Limits/restartPages`` plus what is committed during one checkpoint pass, unless a read transaction stays open
/// longer than the busy timeout.
///
/// A checkpoint that finds the database busy is tried again a few times, a millisecond apart: SQLite answers
/// `SQLITE_BUSY`, without waiting, when the checkpointer reads the WAL index's header while a commit is rewriting it,
/// and when another connection (another process's checkpoint) holds the checkpoint lock. One that still fails, or
/// fails otherwise (the disk), is retried at the next step; committed data is never at risk, it stays in the WAL.
final class WALCheckpointer: Sendable {
    struct Limits: Sendable {
        /// WAL growth, in pages, between two passive checkpoints on the checkpointer's connection.
        var passiveStepPages: Int32
        /// WAL size, in pages, from which the WAL is made to start over (see the type's documentation).
        var restartPages: Int32

        /// 1,000 pages is SQLite's own automatic-checkpoint step; 8,192 pages (32 MiB at the default page size) keep
        /// the checkpoints on the writer connection, whose syncs the next groups wait for, to about one in eight.
        static let standard = Limits(passiveStepPages: 1_000, restartPages: 8_192)
    }

    /// What the checkpointer did so far (for tests).
    struct Counts: Sendable, Equatable {
        var passive = 0
        var onWriter = 0
        /// Checkpoints that found the database busy and were tried again.
        var retried = 0
        var failed = 0
        /// The last failure's description.
        var lastFailure: String?
    }

    /// Attempts at a checkpoint that finds the database busy, a millisecond apart.
    static let busyAttempts = 5

    private let pool: DatabasePool
    private let connection: DatabaseQueue
    private let limits: Limits
    private let queue = DispatchQueue(label: "dedup-vitals.checkpoint", qos: .utility)
    /// WAL size (frames) at which the hook next wakes the thread; only the writer's hook reads or changes it.
    private let nextWake: Atomic<Int32>
    /// A pass is queued and has not started yet: the hook does not queue another.
    private let passQueued = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)
    private let counts = Mutex(Counts())

    /// Opens the checkpointer's own connection to `path` (the database `pool` writes) and installs the hook on the
    /// pool's writer connection.
    init(pool: DatabasePool, path: String, limits: Limits = .standard) throws {
        self.pool = pool
        self.limits = limits
        nextWake = Atomic(limits.passiveStepPages)
        var configuration = Configuration()
        configuration.label = "dedup-vitals.checkpoint"
        connection = try DatabaseQueue(path: path, configuration: configuration)
        let context = Unmanaged.passUnretained(self).toOpaque()
        try pool.writeWithoutTransaction { db in
            // The automatic checkpoint off explicitly, then the hook in its place (the pragma would remove the hook).
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
            sqlite3_wal_hook(db.sqliteConnection, Self.walHook, context)
        }
    }

    private typealias Hook = @convention(c) (UnsafeMutableRawPointer?, OpaquePointer?, UnsafePointer<CChar>?, Int32) -> Int32

    /// Called by SQLite on the writer after each commit, with the WAL's size in frames.
    private static let walHook: Hook = { context, _, _, frames in
        guard let context else { return SQLITE_OK }
        Unmanaged<WALCheckpointer>.fromOpaque(context).takeUnretainedValue().committed(walFrames: frames)
        return SQLITE_OK
    }

    private func committed(walFrames frames: Int32) {
        var wake = nextWake.load(ordering: .relaxed)
        // The WAL started over: count from its new beginning.
        if frames < wake - limits.passiveStepPages { wake = limits.passiveStepPages }
        guard frames >= wake else {
            nextWake.store(wake, ordering: .relaxed)
            return
        }
        nextWake.store(frames + limits.passiveStepPages, ordering: .relaxed)
        guard !passQueued.exchange(true, ordering: .acquiringAndReleasing) else { return }
        queue.async { self.pass() }
    }

    /// One checkpoint pass on the checkpointer's thread.
    private func pass() {
        passQueued.store(false, ordering: .releasing)
        guard !stopped.load(ordering: .acquiring) else { return }
        do {
            let walFrames = try retryingWhenBusy {
                try connection.writeWithoutTransaction { db in try db.checkpoint(.passive).walFrameCount }
            }
            counts.withLock { $0.passive += 1 }
            guard walFrames >= limits.restartPages else { return }
            let mode: Database.CheckpointMode = walFrames >= 2 * limits.restartPages ? .restart : .passive
            _ = try retryingWhenBusy { try pool.writeWithoutTransaction { db in try db.checkpoint(mode) } }
            counts.withLock { $0.onWriter += 1 }
        } catch {
            counts.withLock {
                $0.failed += 1
                $0.lastFailure = "\(error)"
            }
        }
    }

    /// Runs `checkpoint` up to ``busyAttempts`` times while it fails with `SQLITE_BUSY` (see the type's documentation).
    func retryingWhenBusy<T>(_ checkpoint: () throws -> T) throws -> T {
        var attempt = 1
        while true {
            do {
                return try checkpoint()
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY && attempt < Self.busyAttempts {
                counts.withLock { $0.retried += 1 }
                attempt += 1
                usleep(1_000)
            }
        }
    }

    /// Runs a pass now, whatever the WAL's size, and returns when it is done (for tests).
    func passNow() {
        queue.sync { pass() }
    }

    /// Returns when the passes queued so far are done (for tests).
    func drain() {
        queue.sync {}
    }

    var done: Counts { counts.withLock { $0 } }

    /// Removes the hook, waits for a running pass and closes the checkpointer's connection; before the store's final
    /// checkpoint, which must not meet this one.
    func stop() throws {
        stopped.store(true, ordering: .releasing)
        try pool.writeWithoutTransaction { db in sqlite3_wal_hook(db.sqliteConnection, nil, nil) }
        queue.sync {}
        try connection.close()
    }
}
