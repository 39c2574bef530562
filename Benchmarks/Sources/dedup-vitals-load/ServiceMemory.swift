import Foundation

/// The resident memory of the service process, from `/proc/PID/status`.
struct ServiceMemory {
    /// Current resident set size, bytes.
    var rss: Int
    /// Peak resident set size since the process started, bytes.
    var peakRSS: Int

    static func read(pid: Int32) -> ServiceMemory? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        var memory = ServiceMemory(rss: 0, peakRSS: 0)
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let kilobytes = Int(fields[1]) else { continue }
            switch fields[0] {
            case "VmRSS:": memory.rss = kilobytes * 1024
            case "VmHWM:": memory.peakRSS = kilobytes * 1024
            default: break
            }
        }
        return memory
    }
}
