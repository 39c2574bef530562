import Dispatch
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension DedupStore {
    /// Below this much free space on the database's file system the store reports itself not ready: SQLite may still
    /// commit small groups into WAL space it already owns, but any growth fails with SQLITE_FULL.
    public static let minimumFreeBytes: Int64 = 256 * 1024

    /// Free bytes (for unprivileged users) on the file system holding the database, or nil when unknown.
    public func freeBytes() -> Int64? {
        let directory = (path as NSString).deletingLastPathComponent
        var stats = statvfs()
        guard statvfs(directory.isEmpty ? "." : directory, &stats) == 0 else { return nil }
        return Int64(stats.f_bavail) * Int64(stats.f_frsize)
    }

    /// Whether the database can take writes now: a write probe succeeds and the file system is not (nearly) full.
    public func checkReady() -> Result<Void, StorageError> {
        if let free = freeBytes(), free < Self.minimumFreeBytes {
            return .failure(.unavailable(reason: "the file system holding the database is full (\(free) bytes free)"))
        }
        return probeWritable()
    }
}

extension DedupStore {
    /// Runs the start-up check of an existing file; when it refuses the file, removes the empty `-wal` and the `-shm`
    /// that SQLite's read-only look created next to it, so a refused database is left exactly as it was found.
    static func removingNewSidecarsOnFailure(of path: String, _ check: () throws(StorageError) -> Void) throws(StorageError) {
        let sidecars = [path + "-wal", path + "-shm"]
        let existed = sidecars.map { FileManager.default.fileExists(atPath: $0) }
        do {
            try check()
        } catch {
            for (file, existed) in zip(sidecars, existed) where !existed {
                let size = (try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int
                if file.hasSuffix("-shm") || size == 0 { try? FileManager.default.removeItem(atPath: file) }
            }
            throw error
        }
    }
}

extension DedupStore {
    /// ``checkReady()`` on a dispatch thread: the write probe may wait for SQLite's busy timeout (a database locked by
    /// another process), which must not pin one of the few cooperative threads that serve every request.
    public func checkReadyAsync() async -> Result<Void, StorageError> {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(returning: self.checkReady()) }
        }
    }
}
