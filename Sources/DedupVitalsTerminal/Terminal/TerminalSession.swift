import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The controlling terminal in full-screen mode: raw input, the alternate screen, a hidden cursor. Delivers key
/// bytes, resizes and termination signals as ``Event``s, writes each frame with one `write`, and always puts the
/// terminal back as it found it (``restore()`` is idempotent and runs on every exit path of ``DashboardApp``).
public final class TerminalSession: Sendable {
    public enum Event: Sendable {
        /// Bytes typed (one `read`).
        case input([UInt8])
        /// SIGWINCH.
        case resize
        /// SIGINT, SIGTERM or SIGHUP, or end of input.
        case terminate
    }

    private let inputFD: Int32 = STDIN_FILENO
    private let outputFD: Int32 = STDOUT_FILENO
    private let original: termios
    private let active = Mutex(false)
    private let sources = Mutex(SourceList())

    /// Whether `fd` is a terminal.
    public static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// Fails when standard input or output is not a terminal.
    public init() throws(TerminalError) {
        guard Self.isTerminal(STDIN_FILENO), Self.isTerminal(STDOUT_FILENO) else { throw .notATerminal }
        var settings = termios()
        guard tcgetattr(STDIN_FILENO, &settings) == 0 else { throw .system("tcgetattr", errno) }
        original = settings
    }

    /// The current size (80×24 when the terminal does not say).
    public func size() -> TerminalSize {
        Self.size(of: outputFD) ?? .standard
    }

    /// The size of the terminal on `fd`; nil when `fd` is not a terminal or it does not say.
    public static func size(of fd: Int32) -> TerminalSize? {
        var size = winsize()
        guard ioctl(fd, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0 else { return nil }
        return TerminalSize(columns: Int(size.ws_col), rows: Int(size.ws_row))
    }

    /// Switches to raw mode and the alternate screen, hides the cursor, and starts delivering events.
    public func start(_ deliver: @escaping @Sendable (Event) -> Void) throws(TerminalError) {
        var raw = original
        raw.c_iflag &= ~tcflag_t(BRKINT | ICRNL | INPCK | ISTRIP | IXON)
        raw.c_oflag &= ~tcflag_t(OPOST)
        raw.c_cflag |= tcflag_t(CS8)
        raw.c_lflag &= ~tcflag_t(ECHO | ICANON | IEXTEN | ISIG)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        guard tcsetattr(inputFD, TCSAFLUSH, &raw) == 0 else { throw .system("tcsetattr", errno) }
        active.withLock { $0 = true }
        write("\u{1B}[?1049h\u{1B}[?25l\u{1B}[2J")
        installSources(deliver)
    }

    /// Shows the cursor, leaves the alternate screen and restores the original terminal settings. Safe to call more
    /// than once, and from any thread.
    public func restore() {
        let wasActive = active.withLock { value in
            defer { value = false }
            return value
        }
        sources.withLock { list in
            for source in list.items { source.cancel() }
            list.items.removeAll()
        }
        for number in Self.signals { signal(number, SIG_DFL) }
        guard wasActive else { return }
        write("\u{1B}[0m\u{1B}[?25h\u{1B}[?1049l")
        var settings = original
        _ = tcsetattr(inputFD, TCSAFLUSH, &settings)
    }

    /// Writes `text` with as few `write` calls as the kernel allows (normally one).
    public func write(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { buffer in
                writeBytes(outputFD, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return
            }
            offset += written
        }
    }

    /// The escape sequence that draws `lines` over the whole screen: each line positioned explicitly and cleared to
    /// its end, so that a frame never scrolls and nothing of the previous frame remains.
    public static func frame(_ lines: [String]) -> String {
        var out = "\u{1B}[?2026h"
        for (index, line) in lines.enumerated() {
            out += "\u{1B}[\(index + 1);1H" + line + "\u{1B}[0m\u{1B}[K"
        }
        return out + "\u{1B}[?2026l"
    }

    private static let signals = [SIGWINCH, SIGINT, SIGTERM, SIGHUP]

    private func installSources(_ deliver: @escaping @Sendable (Event) -> Void) {
        let queue = DispatchQueue(label: "dedup-vitals.terminal")
        var list: [any DispatchSourceProtocol] = []
        for number in Self.signals {
            let event: Event = number == SIGWINCH ? .resize : .terminate
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { deliver(event) }
            source.resume()
            list.append(source)
        }
        let fd = inputFD
        let reader = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        reader.setEventHandler {
            var buffer = [UInt8](repeating: 0, count: 1024)
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                deliver(.input(Array(buffer.prefix(count))))
            } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                reader.cancel()
                deliver(.terminate)
            }
        }
        reader.resume()
        list.append(reader)
        sources.withLock { $0 = SourceList(items: list) }
    }
}

/// The dispatch sources of a session; only touched under the session's lock.
private struct SourceList: @unchecked Sendable {
    var items: [any DispatchSourceProtocol] = []
}

/// `write(2)`, outside the class whose own `write` would shadow it.
private func writeBytes(_ fd: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, pointer, count)
}

/// Why the terminal could not be set up.
public enum TerminalError: Error, Sendable, CustomStringConvertible {
    case notATerminal
    case system(String, Int32)

    public var description: String {
        switch self {
        case .notATerminal: "top needs a terminal on standard input and output; use --once for a single frame"
        case .system(let call, let code): "\(call) failed: \(String(cString: strerror(code)))"
        }
    }
}
