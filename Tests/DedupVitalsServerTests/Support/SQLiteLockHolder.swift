/// A `sqlite3` shell holding `BEGIN EXCLUSIVE` on a database until released: another process locking it.
final class SQLiteLockHolder {
    private let shell: ChildProcess

    init(database: String) async throws {
        shell = try ChildProcess(["sqlite3", database], executable: "/usr/bin/env", standardInput: true)
        shell.write("BEGIN EXCLUSIVE;\nSELECT 'locked';\n")
        do {
            _ = try await shell.waitForLog(matching: "locked")
        } catch {
            await shell.killAndReap()
            throw error
        }
        guard !shell.log().contains("Error") else {
            await shell.killAndReap()
            throw TestFailure("sqlite3 could not lock: \(shell.log())")
        }
    }

    /// Commits and ends the shell.
    func release() async {
        shell.write("COMMIT;\n.quit\n")
        shell.closeInput()
        if await shell.exitCode() == nil { await shell.killAndReap() }
    }
}
