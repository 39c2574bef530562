/// Command line of `refund-demo`: `serve` or `client`, then `--name value` options. A bad option ends the program
/// with one line on stderr and exit status 64 (EX_USAGE).
struct Options {
    var command: String
    private var values: [String: String]

    static let usage = """
        usage: refund-demo serve  [--port 8080] [--dedup-vitals http://127.0.0.1:9470] [--store PATH|memory]
                                  [--work-ms 1500] [--failure-rate 0.05] [--clients 0]
               refund-demo client [--url http://127.0.0.1:8080] [--clients 4] [--duration 60] [--timeout-ms 1000]
                                  [--mismatch-rate 0.02]
        """

    init(_ arguments: [String]) throws(UsageError) {
        guard let command = arguments.first, ["serve", "client"].contains(command) else {
            throw UsageError("expected a command, serve or client\n" + Self.usage)
        }
        self.command = command
        values = [:]
        var rest = arguments.dropFirst()
        while let name = rest.popFirst() {
            guard name.hasPrefix("--"), let value = rest.popFirst() else { throw UsageError("expected --name value, got \(name)") }
            values[String(name.dropFirst(2))] = value
        }
    }

    func string(_ name: String, default value: String) -> String { values[name] ?? value }

    func int(_ name: String, default value: Int, in range: ClosedRange<Int>) throws(UsageError) -> Int {
        guard let text = values[name] else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw UsageError("--\(name) must be an integer in \(range.lowerBound)...\(range.upperBound), not \(text)")
        }
        return number
    }

    func fraction(_ name: String, default value: Double) throws(UsageError) -> Double {
        guard let text = values[name] else { return value }
        guard let number = Double(text), (0...1).contains(number) else { throw UsageError("--\(name) must be between 0 and 1, not \(text)") }
        return number
    }

    /// Options not used by the command are a mistake worth reporting.
    func rejectUnknown(_ known: Set<String>) throws(UsageError) {
        if let unknown = values.keys.first(where: { !known.contains($0) }) {
            throw UsageError("unknown option --\(unknown) for \(command)\n" + Self.usage)
        }
    }
}

struct UsageError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
