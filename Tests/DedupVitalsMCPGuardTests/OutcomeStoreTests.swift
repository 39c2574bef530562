import DedupVitalsMCPGuard
import Testing

/// The SQLite outcome store: outcomes outlive the store object (a restart), the window bounds what is found.
@Suite("outcome store")
struct OutcomeStoreTests {
    @Test("an outcome is found again after reopening, within the window only, and purged after it")
    func roundTrip() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("nested/outcomes.sqlite")
        let stored = GuardPolicy.Stored(
            fingerprint: "f", result: .object(["content": .array([.string("x")]), "n": .double(1.5)]), firstMs: 1000,
            completedMs: 2000)
        try OutcomeStore(path: path).save("k", stored)
        let reopened = try OutcomeStore(path: path)
        #expect(try reopened.lookup("k", sinceMs: 2000) == stored)
        #expect(try reopened.lookup("k", sinceMs: 2001) == nil)
        #expect(try reopened.lookup("other", sinceMs: 0) == nil)
        #expect(try reopened.purge(beforeMs: 2001) == 1)
        #expect(try reopened.lookup("k", sinceMs: 0) == nil)
    }
}
