import DedupVitalsCore
import Foundation
import GRDB
import Synchronization
import Testing

@testable import DedupVitalsStorage

/// The key log on disk: what a restart rebuilds, compaction, removals, and the move from v3's `key_records`.
@Suite struct KeyLogTests {
    static let t0: Int64 = 1_800_000_000_000
    static let settings = KeyForensics.Settings(dedupWindowMs: 86_400_000, staleAfterMs: 300_000, maxKeys: 1_000_000)
    static let outcomes: [Outcome] = [.miss, .hit, .inFlight, .completed, .mismatch, .miss]

    static func settings(maxKeys: Int) -> KeyForensics.Settings {
        var settings = settings
        settings.maxKeys = maxKeys
        return settings
    }

    /// Every key of `expected` has the same record in `actual`, and no other key is tracked.
    static func expectSameKeys(
        _ actual: KeyForensics, _ expected: KeyForensics, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(actual.keyCount == expected.keyCount, sourceLocation: sourceLocation)
        for (hash, record) in expected.records {
            #expect(actual.isCurrent(hash, record), sourceLocation: sourceLocation)
        }
        #expect(actual.inFlightKeys == expected.inFlightKeys, sourceLocation: sourceLocation)
    }

    @Test func compactionBoundsTheLogAndARestartRebuildsEveryKey() async throws {
        let dir = try TemporaryDirectory()
        let harness = try KeyLogHarness(path: dir.file("db.sqlite"))
        // 120 groups of 500 events over 500 keys: 60,000 entries appended for 500 live keys.
        for group in 0..<120 { try await harness.send(500, keys: 500, from: group * 500) }
        let entries = harness.store.keyLogEntries
        #expect(harness.store.compactor.passes.read > 0, "passes that read their rows")
        #expect(entries >= 500)
        #expect(entries <= KeyLog.readingThreshold(liveKeys: 500) + 1_000, "the log was not compacted: \(entries) entries")
        let before = harness.forensics
        #expect(before.keyCount == 500)
        await harness.close()

        let reopened = try KeyLogHarness(path: dir.file("db.sqlite"))
        Self.expectSameKeys(reopened.forensics, before)
        #expect(reopened.store.keyLogEntries == entries)
        await reopened.close()
    }

    @Test func tracesOfMissesSurviveCompactionAndARestart() async throws {
        let dir = try TemporaryDirectory()
        let harness = try KeyLogHarness(path: dir.file("db.sqlite"))
        // Enough groups to compact the log several times; traced and untraced events mixed in every key's history.
        for group in 0..<120 { try await harness.send(500, keys: 500, from: group * 500, traced: true) }
        let records = harness.forensics.records.values
        let traced = records.filter { $0.traces != nil }
        #expect(traced.count > 100, "keys with traces: \(traced.count)")
        #expect(traced.contains { $0.traces?.repeatMiss != nil && $0.traces?.repeatDetection == .doubleExecution })
        #expect(traced.contains { $0.traces?.firstMiss?.spanIDHex != nil })
        #expect(records.contains { $0.traces == nil }, "keys without traces stay without")
        try await harness.closeAndExpectARestartToRebuildItsKeys()
    }

    @Test func aTracedRecordIsATag3EntryAndAnUntracedOneStaysTag2() throws {
        let hash = KeyHash(high: 1, low: 2)
        var record = KeyRecord(seriesIndex: 0, createdMs: Self.t0)
        record.firstMissMs = Self.t0
        var plain: [UInt8] = []
        KeyLog.append(hash: hash, seriesID: 3, record: record, to: &plain)
        #expect(plain.first == 2)
        let first = try #require(TraceContext(traceHigh: 0x0102, traceLow: 0x0304, span: 0x05))
        let second = try #require(TraceContext(traceHigh: 0x0a0b, traceLow: 0x0c0d))
        record.traces = KeyTraces(firstMiss: first, repeatMiss: second, repeatDetection: .lateRetry)
        var traced: [UInt8] = []
        KeyLog.append(hash: hash, seriesID: 3, record: record, to: &traced)
        #expect(traced.first == 3 && traced.count == plain.count + 1 + 48)
        var decoded: [KeyRecord?] = []
        let complete = traced.withUnsafeBytes { KeyLog.forEachEntry(in: $0) { decoded.append($0.record) } }
        #expect(complete && decoded.count == 1 && decoded[0] == record)
        // A cut-off trace section is a malformed entry, not a record without traces.
        let cut = traced.dropLast(10)
        #expect(!Array(cut).withUnsafeBytes { KeyLog.forEachEntry(in: $0) { _ in } })
    }

    /// One batch whose keys belong to two series writes one row; each record keeps its own series across a restart
    /// (the row finds series ids once per series, by the records' series index).
    @Test func aRowOverSeveralSeriesKeepsEachKeysSeries() async throws {
        let dir = try TemporaryDirectory()
        let harness = try KeyLogHarness(path: dir.file("db.sqlite"))
        let events = (0..<40).map { n in
            Event(
                service: "payments", operation: n % 2 == 0 ? "refund" : "capture", outcome: .miss, key: "key-\(n)",
                timeMs: Self.t0 + Int64(n))
        }
        try await harness.committer.commit(
            .init(
                delta: BatchDelta(
                    events: events, receivedAtMs: Self.t0, bucketWidthMs: BucketClock.defaultWidthMs, hasher: harness.hasher)))
        let path = harness.path
        try await harness.closeAndExpectARestartToRebuildItsKeys()
        let restored = try KeyLogHarness(path: path)
        for operation in ["refund", "capture"] {
            #expect(restored.forensics.keys(of: [SeriesKey(service: "payments", operation: operation)]).count == 20)
        }
        await restored.close()
    }

    /// A row with an entry this version cannot read (a tag from a newer version): the start replays the entries
    /// before it and counts the row, for the service to report.
    @Test func aRowWithAnUnknownEntryIsReplayedUpToItAndCounted() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("db.sqlite")
        let harness = try KeyLogHarness(path: path)
        try await harness.send(10, keys: 10)
        await harness.close()
        let hash = KeyHash(high: 0xfeed, low: 0xbeef)
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            let seriesID = try #require(try Int64.fetchOne(db, sql: "SELECT id FROM series WHERE operation = 'refund'"))
            var bytes: [UInt8] = []
            KeyLog.append(hash: hash, seriesID: seriesID, record: KeyRecord(seriesIndex: 0, createdMs: Self.t0), to: &bytes)
            bytes += [9] + KeyHash(high: 1, low: 1).bytes
            try db.execute(sql: "INSERT INTO key_log(records) VALUES (?)", arguments: [Data(bytes)])
        }
        try queue.close()
        let store = try DedupStore(path: path)
        let loaded = try store.load(
            bucketWidthMs: BucketClock.defaultWidthMs, forensics: Self.settings, maxClientsPerSeries: 10, nowMs: Self.t0)
        #expect(loaded.unreadableKeyLogRows == 1)
        #expect(loaded.forensics.keyCount == 11)
        #expect(loaded.forensics.record(for: hash)?.createdMs == Self.t0)
        try store.close()
    }

    @Test func aRemovalIsA17ByteTag4EntryAndTag0RemovalsStillRead() throws {
        let hash = KeyHash(high: 0x0102_0304_0506_0708, low: 0x090a_0b0c_0d0e_0f10)
        var bytes: [UInt8] = []
        KeyLog.append(hash: hash, seriesID: 7, record: nil, to: &bytes)
        #expect(bytes == [4] + hash.bytes)
        // A removal as written before tag 4: its series id (always 0) is read and ignored.
        var old: [UInt8] = [0] + hash.bytes + [UInt8](repeating: 0, count: 8)
        KeyLog.append(hash: hash, seriesID: 3, record: KeyRecord(seriesIndex: 0, createdMs: Self.t0), to: &old)
        var entries: [KeyLog.Entry] = []
        let complete = (old + bytes).withUnsafeBytes { KeyLog.forEachEntry(in: $0) { entries.append($0) } }
        #expect(complete && entries.count == 3)
        #expect(entries.map(\.hash) == [hash, hash, hash])
        #expect(entries.map { $0.record == nil } == [true, false, true])
        #expect(entries[0].range == 0..<25 && entries[2].range == (old.count)..<(old.count + 17))
        // A cut removal is malformed.
        #expect(!Array(bytes.dropLast()).withUnsafeBytes { KeyLog.forEachEntry(in: $0) { _ in } })
    }

    /// A new database in `dir` where every transaction that writes series `poison` fails; returns its path.
    static func poisonedDatabase(in dir: TemporaryDirectory) async throws -> String {
        let path = dir.file("db.sqlite")
        await (try KeyLogHarness(path: path)).close()
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(
                sql: """
                    CREATE TRIGGER poison BEFORE INSERT ON series WHEN NEW.operation = 'poison'
                    BEGIN SELECT RAISE(ABORT, 'poisoned'); END
                    """)
        }
        try queue.close()
        return path
    }

    @Test func failedGroupsRollBackEvenWithAGroupPreparedOnTop() async throws {
        let dir = try TemporaryDirectory()
        let harness = try KeyLogHarness(path: try await Self.poisonedDatabase(in: dir))
        // Enough entries over the same 40 keys that compaction is due all along: passes are planned while groups fail.
        let prefill = (KeyLog.readingThreshold(liveKeys: 40) / 1_000 + 2) * 1_000
        for chunk in stride(from: 0, to: prefill, by: 1_000) { try await harness.send(1_000, keys: 40, from: chunk) }
        // Waves of 10 concurrent batches over the 40 keys; in every third wave one batch fails its group (and any
        // group prepared on top of it).
        var outcomes: [Bool] = []
        for wave in 0..<30 {
            outcomes += await withTaskGroup(of: Bool.self) { group in
                for n in wave * 10..<wave * 10 + 10 {
                    group.addTask {
                        (try? await harness.send(7, keys: 40, from: prefill + n * 7, poisoned: wave % 3 == 0 && n % 10 == 3))
                            != nil
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
        }
        #expect(outcomes.contains(true))
        #expect(outcomes.contains(false))
        let entries = harness.store.keyLogEntries
        #expect(entries <= KeyLog.readingThreshold(liveKeys: 40) + 1_000, "the log was not compacted: \(entries) entries")
        // Exactly the events of the acknowledged batches are counted.
        let counted = harness.forensics.records.values.reduce(0) {
            $0 + Int($1.miss + $1.hit + $1.inFlight + $1.completed + $1.mismatch)
        }
        #expect(counted == prefill + 7 * outcomes.count(where: { $0 }))
        // Every batch's key-forensics changes reach the participant once as settled, committed or failed (what lets
        // the service reuse a removed series' index).
        let settled = harness.box.settled.withLock { $0 }.flatMap { $0 }
        #expect(settled.sorted() == Array(1...UInt64(prefill / 1_000 + outcomes.count)))
        // What memory holds is exactly what a restart rebuilds from what was committed.
        try await harness.closeAndExpectARestartToRebuildItsKeys()
    }

    /// A pass claimed while an earlier pass was waiting for its group must not be written once that group failed: the
    /// earlier pass's rows are still there, with current entries nobody moved, and deleting up to the later pass's
    /// last row would drop them.
    @Test func aClaimFromBeforeAFailedPassIsDroppedAndTheRowsAreClaimedAgain() async throws {
        let dir = try TemporaryDirectory()
        // No compaction by the committer: the passes below are driven by hand.
        let harness = try KeyLogHarness(path: try await Self.poisonedDatabase(in: dir), compacting: false)
        // 1,000 keys written once (current in the oldest row), then 40 rows of 1,000 entries over 2,000 other keys.
        try await harness.send(1_000, keys: 1_000, operation: "capture")
        for chunk in 0..<40 { try await harness.send(1_000, keys: 2_000, from: chunk * 1_000) }
        let live = harness.forensics.keyCount
        #expect(live == 3_000)
        let isCurrent = { (claim: KeyLogCompactor.Claim) in
            harness.box.forensics.withLock { $0.areCurrent(claim.candidates) }
        }
        let store = harness.store
        let compactor = store.compactor
        let first = try #require(compactor.claim(liveKeys: live))
        let firstPass = compactor.plan(first, current: isCurrent(first), labelBound: .max)
        compactor.finish(first, attached: true)
        #expect(firstPass.kept > 0 && firstPass.kept < firstPass.read)
        // Claimed while the first pass waits for its group: starts after the first pass's rows.
        let second = try #require(compactor.claim(liveKeys: live))
        #expect(second.after == firstPass.throughID)
        // The first pass's group fails.
        let poisoned = BatchDelta(
            events: [Event(service: "payments", operation: "poison", outcome: .miss, timeMs: Self.t0)], receivedAtMs: Self.t0,
            bucketWidthMs: BucketClock.defaultWidthMs)
        #expect(throws: StorageError.self) {
            try store.write(poisoned, forensics: [], compaction: firstPass, idempotencyRecords: [], createdAtMs: Self.t0)
        }
        compactor.abandon()
        #expect(!compactor.isValid(second))
        compactor.finish(second, attached: false)
        // The next claim starts over from the oldest row, and its pass, written, loses nothing.
        let third = try #require(compactor.claim(liveKeys: live))
        #expect(third.after == 0)
        let thirdPass = compactor.plan(third, current: isCurrent(third), labelBound: .max)
        compactor.finish(third, attached: true)
        try store.write(BatchDelta(), forensics: [], compaction: thirdPass, idempotencyRecords: [], createdAtMs: Self.t0)
        #expect(store.keyLogEntries < 41_000)
        try await harness.closeAndExpectARestartToRebuildItsKeys()
    }

    /// With a fresh key on every event the table is at its cap and evicts the oldest keys: the rows a pass reaches hold
    /// no current entry and are deleted unread, before and after a restart (which numbers the keys again).
    @Test func rowsWhoseKeysWereAllEvictedAreDeletedUnread() async throws {
        let dir = try TemporaryDirectory()
        let settings = Self.settings(maxKeys: 500)
        let harness = try KeyLogHarness(path: dir.file("db.sqlite"), settings: settings)
        for group in 0..<60 { try await harness.send(500, keys: 1_000_000, from: group * 500) }
        let passes = harness.store.compactor.passes
        #expect(passes.unread >= 2 && passes.read == 0, "passes: \(passes)")
        let entries = harness.store.keyLogEntries
        #expect(entries <= 2 * 500 + KeyLog.minimumEntries + 2_000, "the log was not compacted: \(entries) entries")
        try await harness.closeAndExpectARestartToRebuildItsKeys()

        let reopened = try KeyLogHarness(path: dir.file("db.sqlite"), settings: settings)
        for group in 60..<100 { try await reopened.send(500, keys: 1_000_000, from: group * 500) }
        #expect(reopened.store.compactor.passes.unread >= 2, "passes after a restart: \(reopened.store.compactor.passes)")
        try await reopened.closeAndExpectARestartToRebuildItsKeys()
    }

    /// A row of 5,000 keys (a run of its own), then 30,000 entries over 1,000 other keys (both current, the table at
    /// its cap of 6,000), then 5,000 new keys: they evict the first 5,000, whose row then holds no current entry. With
    /// `poisoned`, the last group fails instead and its rollback puts the evicted keys back, their current entries in
    /// the first row.
    static func evictTheFirstRow(poisoned: Bool, in dir: TemporaryDirectory) async throws -> KeyLogHarness {
        let settings = Self.settings(maxKeys: 6_000)
        let path = poisoned ? try await Self.poisonedDatabase(in: dir) : dir.file("db.sqlite")
        let harness = try KeyLogHarness(path: path, settings: settings, compacting: false)
        try await harness.send(5_000, keys: 1_000_000)
        for chunk in 0..<30 { try await harness.send(1_000, keys: 1_000, from: chunk * 1_000, keyBase: 10_000) }
        #expect(harness.store.keyLogEntries > KeyLog.readingThreshold(liveKeys: 0))
        if poisoned {
            await #expect(throws: StorageError.self) {
                try await harness.send(5_000, keys: 1_000_000, keyBase: 100_000, poisoned: true)
            }
        } else {
            try await harness.send(5_000, keys: 1_000_000, keyBase: 100_000)
        }
        #expect(harness.forensics.keyCount == 6_000)
        return harness
    }

    /// Rows whose keys are all still tracked are read only above the higher mark: between the two marks no pass is
    /// claimed at all (with a fresh key per event, the rows there were about to hold no current entry).
    @Test func rowsAreReadOnlyAboveTheHigherMark() async throws {
        let dir = try TemporaryDirectory()
        let harness = try KeyLogHarness(path: dir.file("db.sqlite"), compacting: false)
        // 20,000 entries over 1,000 keys, none evicted: above 2 × keys + 16,384, below the reading mark.
        for chunk in 0..<20 { try await harness.send(1_000, keys: 1_000, from: chunk * 1_000) }
        let compactor = harness.store.compactor
        let live = harness.forensics.keyCount
        #expect(harness.store.keyLogEntries < KeyLog.readingThreshold(liveKeys: live))
        #expect(compactor.claim(liveKeys: live, oldestLabel: harness.forensics.table.oldestLabel) == nil)
        for chunk in 20..<36 { try await harness.send(1_000, keys: 1_000, from: chunk * 1_000) }
        #expect(harness.store.keyLogEntries > KeyLog.readingThreshold(liveKeys: live))
        let claim = try #require(compactor.claim(liveKeys: live, oldestLabel: harness.forensics.table.oldestLabel))
        #expect(!claim.unread && !claim.candidates.isEmpty)
        compactor.finish(claim, attached: false)
        await harness.close()
    }

    /// A key that one batch evicts and then creates again: its removal is logged before its new record, so a restart
    /// still tracks it.
    @Test func aKeyEvictedAndCreatedAgainInOneBatchSurvivesARestart() async throws {
        let dir = try TemporaryDirectory()
        let harness = try KeyLogHarness(path: dir.file("db.sqlite"), settings: Self.settings(maxKeys: 3))
        try await harness.send(3, keys: 5)
        // key-3 evicts key-0, key-4 evicts key-1, then key-0, new again, evicts key-2.
        try await harness.send(3, keys: 5, from: 3)
        let forensics = harness.forensics
        #expect(forensics.keyCount == 3)
        #expect(forensics.evictions == 3)
        #expect(forensics.records.values.filter { $0.createdMs == Self.t0 + 5 }.count == 1, "key-0's new record")
        try await harness.closeAndExpectARestartToRebuildItsKeys()
    }

    @Test func aRowWhoseKeysWereEvictedIsClaimedUnread() async throws {
        let dir = try TemporaryDirectory()
        let harness = try await Self.evictTheFirstRow(poisoned: false, in: dir)
        let compactor = harness.store.compactor
        let firstRow = try #require(compactor.runs.first)
        #expect(firstRow.entries == 5_000)
        let entries = harness.store.keyLogEntries
        let claim = try #require(compactor.claim(liveKeys: 0, oldestLabel: harness.forensics.table.oldestLabel))
        #expect(claim.unread && claim.candidates.isEmpty && claim.through == firstRow.throughID && claim.read == 5_000)
        let pass = compactor.plan(claim, current: [], labelBound: .min)
        compactor.finish(claim, attached: true)
        try harness.store.write(BatchDelta(), forensics: [], compaction: pass, idempotencyRecords: [], createdAtMs: Self.t0)
        #expect(harness.store.keyLogEntries == entries - 5_000)
        #expect(compactor.passes.unread == 1)
        try await harness.closeAndExpectARestartToRebuildItsKeys()
    }

    /// The rolled-back keys' current entries are in the first row: it must be read, not deleted unread.
    @Test func afterAFailedGroupTheRowsOfTheKeysItPutBackAreRead() async throws {
        let dir = try TemporaryDirectory()
        let harness = try await Self.evictTheFirstRow(poisoned: true, in: dir)
        let compactor = harness.store.compactor
        let claim = try #require(compactor.claim(liveKeys: 0, oldestLabel: harness.forensics.table.oldestLabel))
        #expect(!claim.unread)
        let current = harness.box.forensics.withLock { $0.areCurrent(claim.candidates) }
        let pass = compactor.plan(claim, current: current, labelBound: harness.forensics.table.labelBound)
        compactor.finish(claim, attached: true)
        #expect(pass.kept >= 5_000, "the first row's 5,000 current entries move")
        try harness.store.write(BatchDelta(), forensics: [], compaction: pass, idempotencyRecords: [], createdAtMs: Self.t0)
        try await harness.closeAndExpectARestartToRebuildItsKeys()
    }

    /// Compaction frees many pages; with full secure delete (Debian's SQLite default) each would be written again.
    @Test func everyConnectionUsesFastSecureDelete() async throws {
        let dir = try TemporaryDirectory()
        let store = try DedupStore(path: dir.file("db.sqlite"))
        let writer = try await store.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA secure_delete") }
        let reader = try await store.pool.read { db in try Int.fetchOne(db, sql: "PRAGMA secure_delete") }
        #expect(
            writer == 2 && reader == 2,
            "secure_delete is \(String(describing: writer)) / \(String(describing: reader)), 2 is FAST")
        try store.close()
    }

    @Test func evictionsAreLoggedSoARestartKeepsTheNewestKeys() async throws {
        let dir = try TemporaryDirectory()
        let settings = Self.settings(maxKeys: 100)
        let harness = try KeyLogHarness(path: dir.file("db.sqlite"), settings: settings)
        for group in 0..<3 { try await harness.send(100, keys: 300, from: group * 100) }
        #expect(harness.forensics.keyCount == 100)
        try await harness.closeAndExpectARestartToRebuildItsKeys()
    }

    @Test func removalsForAnExpiredSeriesAreReplayed() async throws {
        let dir = try TemporaryDirectory()
        let harness = try KeyLogHarness(path: dir.file("db.sqlite"))
        try await harness.send(10, keys: 10, operation: "refund")
        try await harness.send(10, keys: 10, operation: "capture")
        let refundKeys = harness.box.forensics.withLock { $0.keys(of: [SeriesKey(service: "payments", operation: "refund")]) }
        #expect(refundKeys.count == 10)
        // Only the log entries: the series rows stay, so the replay alone must drop the keys.
        try harness.store.prune(
            nowMs: Self.t0, retentionMs: 86_400_000, idempotencyTTLMs: 86_400_000, bucketWidthMs: BucketClock.defaultWidthMs,
            removedKeys: refundKeys)
        await harness.close()

        let reopened = try KeyLogHarness(path: dir.file("db.sqlite"))
        let restored = reopened.forensics
        #expect(restored.keyCount == 10)
        #expect(restored.keys(of: [SeriesKey(service: "payments", operation: "capture")]).count == 10)
        await reopened.close()
    }

    @Test func recordsOlderThanTheKeepTimeAreForgottenAtStart() async throws {
        let dir = try TemporaryDirectory()
        let harness = try KeyLogHarness(path: dir.file("db.sqlite"))
        try await harness.send(10, keys: 10)
        await harness.close()
        let store = try DedupStore(path: dir.file("db.sqlite"))
        let justInside = try store.load(
            bucketWidthMs: BucketClock.defaultWidthMs, forensics: Self.settings, maxClientsPerSeries: 10,
            nowMs: Self.t0 + Self.settings.keepMs)
        #expect(justInside.forensics.keyCount == 10)
        let outside = try store.load(
            bucketWidthMs: BucketClock.defaultWidthMs, forensics: Self.settings, maxClientsPerSeries: 10,
            nowMs: Self.t0 + 9 + Self.settings.keepMs + 1)
        #expect(outside.forensics.keyCount == 0)
        try store.close()
    }

    @Test func compactEntriesRoundTripAnyRecord() {
        var generator = SystemRandomNumberGenerator()
        func time() -> Int64 {
            switch Int.random(in: 0..<4, using: &generator) {
            case 0: 0
            case 1: Self.t0 + Int64.random(in: -86_400_000...86_400_000, using: &generator)
            case 2: Int64.random(in: Int64.min / 2...Int64.max / 2, using: &generator)
            default: Self.t0
            }
        }
        for _ in 0..<20_000 {
            var record = KeyRecord(seriesIndex: 0, createdMs: Bool.random(using: &generator) ? Self.t0 : time())
            (record.firstMissMs, record.lastMissMs, record.completedMs, record.lastSeenMs) = (time(), time(), time(), time())
            (record.miss, record.hit, record.inFlight) = (
                .random(in: 0...3, using: &generator), .max, .random(in: 0...UInt32.max, using: &generator)
            )
            (record.completed, record.mismatch) = (0, .random(in: 0...200, using: &generator))
            record.open = .random(using: &generator)
            record.payloadVariants = .random(in: 0...UInt8.max, using: &generator)
            record.payloadFingerprint = Bool.random(using: &generator) ? 0 : .random(in: 1...UInt64.max, using: &generator)
            let hash = KeyHash(
                high: .random(in: 0...UInt64.max, using: &generator), low: .random(in: 0...UInt64.max, using: &generator))
            let seriesID = Int64.random(in: 1...Int64.max, using: &generator)
            var bytes: [UInt8] = []
            KeyLog.append(hash: hash, seriesID: seriesID, record: record, to: &bytes)
            KeyLog.append(hash: hash, seriesID: seriesID, record: nil, to: &bytes)
            var entries: [KeyLog.Entry] = []
            let complete = bytes.withUnsafeBytes { KeyLog.forEachEntry(in: $0) { entries.append($0) } }
            #expect(complete)
            #expect(entries.count == 2)
            #expect(entries.first?.record == record && entries.first?.hash == hash && entries.first?.seriesID == seriesID)
            #expect(entries.last?.record == nil && entries.last?.range.upperBound == bytes.count)
            // A cut entry is reported, never misread.
            let cut = Array(bytes[..<Int.random(in: 1..<(entries.first?.range.upperBound ?? 1), using: &generator)])
            #expect(!cut.withUnsafeBytes { KeyLog.forEachEntry(in: $0) { _ in } })
        }
    }

    /// Records at the limits of the tracked keys' packed form (a time 49.7 days before the last sighting, counts of
    /// 65,535) and beyond them (kept whole beside the table) come back exactly from the log at start, stay current
    /// through compaction passes, and come back exactly after a restart.
    @Test func recordsAtAndBeyondThePackingLimitsSurviveCompactionAndARestart() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("db.sqlite")
        let first = try KeyLogHarness(path: path)
        try await first.send(1, keys: 1)
        await first.close()

        let reach = Int64(UInt32.max) - 1
        var stored: [(KeyHash, KeyRecord)] = []
        func add(_ change: (inout KeyRecord) -> Void) {
            var record = KeyRecord(seriesIndex: 0, createdMs: Self.t0 - 1_000)
            (record.firstMissMs, record.lastMissMs, record.lastSeenMs, record.miss, record.open) = (
                Self.t0 - 1_000, Self.t0 - 1_000, Self.t0, 1, true
            )
            change(&record)
            stored.append((KeyHash(high: 0xFEED, low: UInt64(stored.count + 1)), record))
        }
        add { $0.createdMs = Self.t0 - reach }
        add { $0.createdMs = Self.t0 - reach - 1 }
        add { $0.firstMissMs = Self.t0 - reach }
        add { $0.lastMissMs = Self.t0 - 90 * 86_400_000 }
        add { $0.completedMs = Self.t0 - reach - 1 }
        add { ($0.miss, $0.hit, $0.inFlight, $0.completed, $0.mismatch) = (65_535, 65_535, 65_535, 65_535, 65_535) }
        add { $0.hit = 65_536 }
        add { $0.mismatch = .max }
        add { $0.completedMs = Self.t0 + 1 }  // after the last sighting: only a stored record could say so
        let entries = stored
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            let seriesID = try Int64.fetchOne(db, sql: "SELECT id FROM series WHERE operation = 'refund'") ?? 0
            var bytes: [UInt8] = []
            for (hash, record) in entries { KeyLog.append(hash: hash, seriesID: seriesID, record: record, to: &bytes) }
            try db.execute(sql: "INSERT INTO key_log(records) VALUES (?)", arguments: [Data(bytes)])
        }
        try queue.close()

        func expectStored(_ forensics: KeyForensics, sourceLocation: SourceLocation = #_sourceLocation) {
            for (hash, record) in stored {
                #expect(forensics.isCurrent(hash, record), "\(record)", sourceLocation: sourceLocation)
            }
            #expect(forensics.table.unpackedCount == 6, sourceLocation: sourceLocation)
        }
        let harness = try KeyLogHarness(path: path)
        expectStored(harness.forensics)
        // Enough groups that compaction passes read the stored entries and move them to the end of the log.
        for group in 0..<100 { try await harness.send(500, keys: 500, from: group * 500) }
        #expect(harness.store.compactor.passes.read > 0)
        #expect(harness.store.keyLogEntries <= KeyLog.readingThreshold(liveKeys: 510) + 1_000)
        expectStored(harness.forensics)
        await harness.close()
        let reopened = try KeyLogHarness(path: path)
        expectStored(reopened.forensics)
        await reopened.close()
    }

    @Test func aVersion3DatabaseMovesItsKeyRecordsIntoTheLog() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("db.sqlite")
        // The state a v3 service would have stored: a series and two key records in `key_records`.
        let source = try KeyLogHarness(path: dir.file("source.sqlite"))
        try await source.send(6, keys: 2)
        let expected = source.forensics
        await source.close()
        let queue = try DatabaseQueue(path: path)
        try StorageSchema.migrator.migrate(queue, upTo: "v3-key-forensics")
        try await queue.write { db in
            try db.execute(
                sql: "INSERT INTO series(id, service, operation, last_seen_ms) VALUES (7, 'payments', 'refund', ?)",
                arguments: [Self.t0])
            for (hash, record) in expected.records {
                var bytes: [UInt8] = []
                KeyRecordCodec.append(record, to: &bytes)
                let hashBytes =
                    withUnsafeBytes(of: hash.high.bigEndian) { Array($0) } + withUnsafeBytes(of: hash.low.bigEndian) { Array($0) }
                try db.execute(
                    sql: "INSERT INTO key_records(hash, series_id, last_seen_ms, record) VALUES (?, 7, ?, ?)",
                    arguments: [Data(hashBytes), record.lastSeenMs, Data(bytes)])
            }
        }
        try queue.close()

        let migrated = try KeyLogHarness(path: path)
        Self.expectSameKeys(migrated.forensics, expected)
        #expect(migrated.store.keyLogEntries == 2)
        let tables = try await DatabaseQueue(path: path).read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        #expect(!tables.contains("key_records"))
        await migrated.close()
    }
}

/// A store, the writer's key forensics and a group committer wired like the service's.
final class KeyLogHarness: Sendable {
    let path: String
    let settings: KeyForensics.Settings
    let store: DedupStore
    let box: ForensicsBox
    let committer: GroupCommitter
    let hasher = KeyHasher(secret: Array(repeating: 7, count: 32))

    /// - Parameter compacting: whether the committer plans key-log compaction passes.
    init(path: String, settings: KeyForensics.Settings = KeyLogTests.settings, compacting: Bool = true) throws {
        let store = try DedupStore(path: path)
        let loaded = try store.load(
            bucketWidthMs: BucketClock.defaultWidthMs, forensics: settings, maxClientsPerSeries: 10, nowMs: KeyLogTests.t0)
        let box = ForensicsBox(loaded.forensics)
        self.path = path
        self.settings = settings
        self.store = store
        self.box = box
        let steps = ForensicsSteps(box: box)
        committer = GroupCommitter(
            store: store, clock: { KeyLogTests.t0 }, participant: steps, keyLiveness: compacting ? steps : nil)
    }

    /// Commits `count` keyed events over `keys` distinct keys (numbered from `keyBase`), starting at event number
    /// `first`; with `poisoned`, one
    /// more event of operation `poison` (see ``KeyLogTests/poisonedDatabase(in:)``); with `traced`, every other event
    /// carries a trace context of its own (with a span id every fourth).
    func send(
        _ count: Int, keys: Int, from first: Int = 0, keyBase: Int = 0, operation: String = "refund", poisoned: Bool = false,
        traced: Bool = false
    ) async throws {
        var events = (first..<first + count).map { n in
            Event(
                service: "payments", operation: operation, outcome: KeyLogTests.outcomes[n % KeyLogTests.outcomes.count],
                key: "key-\(keyBase + n % keys)", payload: "payload-\(keyBase + n % keys)", timeMs: KeyLogTests.t0 + Int64(n),
                trace: traced && n % 2 == 0
                    ? TraceContext(traceHigh: UInt64(n + 1), traceLow: 0xABCD, span: n % 4 == 0 ? UInt64(n + 7) : 0) : nil)
        }
        if poisoned { events.append(Event(service: "payments", operation: "poison", outcome: .miss, timeMs: KeyLogTests.t0)) }
        let delta = BatchDelta(
            events: events, receivedAtMs: KeyLogTests.t0, bucketWidthMs: BucketClock.defaultWidthMs, hasher: hasher)
        try await committer.commit(.init(delta: delta))
    }

    func close() async {
        await committer.close()
        do { try store.close() } catch { Issue.record("the database did not close cleanly: \(error)") }
    }

    /// Closes, reopens the database and expects exactly the keys that were in memory (what a restart rebuilds from
    /// what was committed).
    func closeAndExpectARestartToRebuildItsKeys(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let before = forensics
        await close()
        let reopened = try KeyLogHarness(path: path, settings: settings)
        KeyLogTests.expectSameKeys(reopened.forensics, before, sourceLocation: sourceLocation)
        await reopened.close()
    }

    /// A copy of the writer's key forensics.
    var forensics: KeyForensics { box.forensics.withLock { $0 } }
}

final class ForensicsBox: Sendable {
    let forensics: Mutex<KeyForensics>
    /// The calls of the key-forensics changes of each settled group (committed or failed), in the order settled.
    let settled = Mutex<[[UInt64]]>([])
    init(_ forensics: KeyForensics) { self.forensics = Mutex(forensics) }
}

/// The key-forensics part of the service's commit steps, alone.
struct ForensicsSteps: CommitParticipant, KeyLiveness {
    let box: ForensicsBox

    func admit(_ delta: BatchDelta) throws {}

    func prepare(_ delta: inout BatchDelta) -> KeyForensics.Changes? {
        let events = delta.forensicEvents
        return box.forensics.withLock { $0.process(events, bucketWidthMs: BucketClock.defaultWidthMs) }
    }

    func committed(_ group: BatchDelta, changes: [KeyForensics.Changes]) {
        box.settled.withLock { $0.append(changes.map(\.call)) }
    }

    func failed(_ group: BatchDelta, changes: [KeyForensics.Changes]) {
        box.forensics.withLock { forensics in for batch in changes { forensics.rollback(batch) } }
        box.settled.withLock { $0.append(changes.map(\.call)) }
    }

    var trackedKeys: (count: Int, oldestLabel: Int) { box.forensics.withLock { ($0.keyCount, $0.table.oldestLabel) } }

    var keyLabelBound: Int { box.forensics.withLock { $0.table.labelBound } }

    func areCurrent(_ entries: [(hash: KeyHash, record: KeyRecord)]) -> [Bool] {
        box.forensics.withLock { $0.areCurrent(entries) }
    }
}

extension KeyRecordCodec {
    /// Version 3's 78-byte form of a record (what its `key_records` rows held), to build a v3 database.
    static func append(_ record: KeyRecord, to bytes: inout [UInt8]) {
        func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        put(record.createdMs)
        put(record.firstMissMs)
        put(record.lastMissMs)
        put(record.completedMs)
        put(record.lastSeenMs)
        put(record.miss)
        put(record.hit)
        put(record.inFlight)
        put(record.completed)
        put(record.mismatch)
        put(UInt8(record.open ? 1 : 0))
        put(record.payloadVariants)
        put(record.payloadFingerprint)
        put(UInt64(0))  // the low half of a payload hash, stored by version 3; no longer kept
    }
}
