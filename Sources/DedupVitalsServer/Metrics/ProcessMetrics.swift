import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The standard `process_*` figures of a Prometheus exporter, read from `/proc/self` as the Go client's process
/// collector does: CPU time and memory from `/proc/self/stat`, open descriptors from `/proc/self/fd`, the descriptor
/// limit (the soft limit of `/proc/self/limits`) and the start time from the boot time in `/proc/stat`.
struct ProcessMetrics: Sendable, Equatable {
    /// User and system CPU time, in seconds.
    var cpuSeconds: Double
    var residentMemoryBytes: Int64
    var virtualMemoryBytes: Int64
    var openFileDescriptors: Int64
    var maxFileDescriptors: Int64
    /// Seconds since the Unix epoch.
    var startTimeSeconds: Double

    /// The current figures; nil where `/proc` is not available (not Linux).
    static func current() -> ProcessMetrics? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let fields = statFields(stat), fields.count > 21,
            let utime = Double(fields[11]), let stime = Double(fields[12]), let startTicks = Double(fields[19]),
            let virtualBytes = Int64(fields[20]), let residentPages = Int64(fields[21])
        else { return nil }
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Int64(sysconf(Int32(_SC_PAGESIZE)))
        let openDescriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        return ProcessMetrics(
            cpuSeconds: (utime + stime) / ticksPerSecond, residentMemoryBytes: residentPages * pageSize,
            virtualMemoryBytes: virtualBytes, openFileDescriptors: Int64(openDescriptors),
            maxFileDescriptors: maxOpenFiles(), startTimeSeconds: bootTime + startTicks / ticksPerSecond)
    }

    /// The fields of `/proc/self/stat` from the third (`state`) on: the second, the command name in parentheses,
    /// may itself contain spaces and parentheses, so the split starts after its last `)`.
    static func statFields(_ text: String) -> [Substring]? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
    }

    /// The soft limit of the "Max open files" line of `/proc/self/limits` (`unlimited`: the largest value).
    private static func maxOpenFiles() -> Int64 {
        guard let text = try? String(contentsOfFile: "/proc/self/limits", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("Max open files") {
            let soft = line.dropFirst("Max open files".count).split(separator: " ").first ?? ""
            return soft == "unlimited" ? Int64.max : Int64(soft) ?? 0
        }
        return 0
    }

    /// When the machine booted, read once: it does not change while the process runs, and reading and splitting
    /// `/proc/stat` was a sizeable part of a scrape of few series.
    private static let bootTime = bootTimeSeconds()

    /// The `btime` line of `/proc/stat`: when the machine booted, in seconds since the epoch.
    private static func bootTimeSeconds() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        return 0
    }
}
