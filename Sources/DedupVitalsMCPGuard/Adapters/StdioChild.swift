import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The real MCP server: `COMMAND ARGS...` started with its stdin and stdout on pipes to the guard and its stderr on
/// the guard's stderr (the server's logs stay logs).
///
/// Started with `posix_spawnp` rather than Foundation's `Process`: the guard reads the pipe with plain blocking
/// `read(2)` until end-of-file, and the child must not inherit the guard's ignored SIGPIPE or its signal handling.
public final class StdioChild: Sendable {
    public let pid: pid_t
    /// The write end of the child's stdin.
    public let input: Int32
    /// The read end of the child's stdout.
    public let output: Int32

    public struct SpawnError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(command: [String]) throws(SpawnError) {
        guard let program = command.first else { throw SpawnError(description: "no command to run") }
        var toChild: [Int32] = [0, 0]
        var fromChild: [Int32] = [0, 0]
        guard pipe(&toChild) == 0, pipe(&fromChild) == 0 else {
            throw SpawnError(description: "pipe: \(String(cString: strerror(errno)))")
        }
        // The guard's ends must not leak into the child (or into another child).
        for fd in [toChild[1], fromChild[0]] { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toChild[0], 0)
        posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1)
        posix_spawn_file_actions_addclose(&actions, toChild[0])
        posix_spawn_file_actions_addclose(&actions, fromChild[1])

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGHUP] { sigaddset(&defaults, signal) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = command.map { strdup($0) } + [nil]
        defer { for arg in argv { free(arg) } }
        var pid: pid_t = 0
        let status = posix_spawnp(&pid, program, &actions, &attributes, argv, environ)
        close(toChild[0])
        close(fromChild[1])
        guard status == 0 else {
            close(toChild[1])
            close(fromChild[0])
            throw SpawnError(description: "cannot start \(program): \(String(cString: strerror(status)))")
        }
        self.pid = pid
        self.input = toChild[1]
        self.output = fromChild[0]
    }

    /// Sends `signal` to the child.
    public func signal(_ signal: Int32) { _ = kill(pid, signal) }

    /// Ends the child's input (the client closed the guard's stdin).
    public func closeInput() { close(input) }

    /// Waits for the child to exit; its exit status, or 128 + the signal that ended it (as a shell reports it).
    public func waitForExit() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else { return 1 }
        }
        let low = status & 0x7F
        return low == 0 ? (status >> 8) & 0xFF : 128 + low
    }
}
