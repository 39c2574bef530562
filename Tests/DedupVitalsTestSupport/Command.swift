import Foundation

/// System commands for fault injection (chattr, mount, sqlite3), over ``ChildProcess``, and what this machine allows.
public enum Command {
    /// Runs `arguments` (the first is looked up on PATH) to completion; its exit status (-1 when it could not run).
    @discardableResult
    public static func run(_ arguments: [String]) -> Int32 {
        (try? ChildProcess.command(arguments).status) ?? -1
    }

    /// Whether this machine lets the tests mark files immutable (root on a file system that supports it).
    public static let canMakeImmutable: Bool = {
        guard let dir = try? TemporaryDirectory() else { return false }
        let file = dir.file("probe")
        guard FileManager.default.createFile(atPath: file, contents: Data("x".utf8)) else { return false }
        defer { run(["chattr", "-i", file]) }
        return run(["chattr", "+i", file]) == 0 && FileHandle(forWritingAtPath: file) == nil
    }()

    /// Whether this machine lets the tests mount a tmpfs (root with CAP_SYS_ADMIN).
    public static let canMount: Bool = {
        guard let dir = try? TemporaryDirectory() else { return false }
        guard run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir.path]) == 0 else { return false }
        return run(["umount", dir.path]) == 0
    }()

    /// Whether the sqlite3 shell is installed.
    public static let hasSQLite3: Bool = run(["sqlite3", "-version"]) == 0
}
