/// Storage failures, split by what the caller should do about them.
public enum StorageError: Error, Sendable, CustomStringConvertible {
    /// The file is not a dedup-vitals database (another application's SQLite file, or not SQLite at all).
    case foreignDatabase(path: String, reason: String)
    /// The file could not be opened or is damaged.
    case cannotOpen(path: String, reason: String)
    /// A transient fault (read-only, full disk, locked, I/O error): retry later; nothing was committed.
    case unavailable(reason: String)

    public var description: String {
        switch self {
        case .foreignDatabase(let path, let reason): "\(path) is not a dedup-vitals database: \(reason)"
        case .cannotOpen(let path, let reason): "cannot open database \(path): \(reason)"
        case .unavailable(let reason): "database unavailable: \(reason)"
        }
    }
}
