import Foundation

/// Runs system commands for fault injection (chattr, mount, sqlite3).
enum Command {
    /// Runs `arguments` (the first is looked up on PATH) to completion; its exit status.
    @discardableResult
    static func run(_ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Whether this machine lets the tests mark files immutable (root on a file system that supports it).
    static let canMakeImmutable: Bool = {
        guard let dir = try? TemporaryDirectory() else { return false }
        let file = dir.file("probe")
        guard FileManager.default.createFile(atPath: file, contents: Data("x".utf8)) else { return false }
        defer { run(["chattr", "-i", file]) }
        return run(["chattr", "+i", file]) == 0 && FileHandle(forWritingAtPath: file) == nil
    }()

    /// Whether this machine lets the tests mount a tmpfs (root with CAP_SYS_ADMIN).
    static let canMount: Bool = {
        guard let dir = try? TemporaryDirectory() else { return false }
        guard run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir.path]) == 0 else { return false }
        return run(["umount", dir.path]) == 0
    }()

    /// Whether the sqlite3 shell is installed.
    static let hasSQLite3: Bool = run(["sqlite3", "-version"]) == 0
}

/// A `sqlite3` shell holding `BEGIN EXCLUSIVE` on a database until released: another process locking it.
final class SQLiteLockHolder {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()

    init(database: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sqlite3", database]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data("BEGIN EXCLUSIVE;\nSELECT 'locked';\n".utf8))
        var seen = ""
        while !seen.contains("locked") {
            let data = output.fileHandleForReading.availableData
            guard !data.isEmpty else { throw TestFailure("sqlite3 ended: \(seen)") }
            seen += String(decoding: data, as: UTF8.self)
        }
        guard !seen.contains("Error") else { throw TestFailure("sqlite3 could not lock: \(seen)") }
    }

    /// Commits and ends the shell.
    func release() {
        input.fileHandleForWriting.write(Data("COMMIT;\n.quit\n".utf8))
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
