import Foundation

/// Formats one run: throughput, latency percentiles, ratio to the /healthz ceiling, service memory.
struct LoadReport {
    var plan: RequestPlan
    var connections: Int
    var threads: Int
    var outcome: LoadPhase.Outcome
    var ceiling: LoadPhase.Outcome?
    var memory: ServiceMemory?

    var text: String {
        let result = outcome.result
        var lines = [
            "\(plan.label), \(connections) connections, \(threads) generator thread(s), \(fixed(outcome.seconds, 1)) s measured",
            "  \(Int(outcome.requestsPerSecond.rounded())) req/s"
                + (plan.eventsPerRequest > 0 ? ", \(Int(eventsPerSecond.rounded())) events/s" : "")
                + ", \(result.ok) answers, \(result.failures) failures",
            "  latency p50 \(ms(50)) ms, p99 \(ms(99)) ms, p99.9 \(ms(99.9)) ms, max \(fixed(Double(result.latencyMicros.max) / 1000, 2)) ms",
        ]
        if result.bodyBytes > 0, plan.eventsPerRequest == 0 {
            lines.append("  response body \(result.bodyBytes / max(1, result.ok)) bytes on average")
        }
        if let ceiling {
            lines.append(
                "  GET /healthz ceiling \(Int(ceiling.requestsPerSecond.rounded())) req/s (p50 \(fixed(Double(ceiling.result.latencyMicros.median) / 1000, 2)) ms)"
                    + "; this run is \(fixed(outcome.requestsPerSecond / ceiling.requestsPerSecond, 3)) of it")
        }
        if let memory {
            lines.append("  service RSS \(mib(memory.rss)) MiB (peak \(mib(memory.peakRSS)) MiB)")
        }
        if let failure = result.firstFailure ?? ceiling?.result.firstFailure {
            lines.append("  first failure: \(failure)")
        }
        return lines.joined(separator: "\n")
    }

    var row: String {
        let ceilingRate = ceiling?.requestsPerSecond
        let cells = [
            plan.label, String(connections), String(Int(outcome.requestsPerSecond.rounded())),
            plan.eventsPerRequest > 0 ? String(Int(eventsPerSecond.rounded())) : "-",
            ms(50), ms(99), ms(99.9),
            ceilingRate.map { String(Int($0.rounded())) } ?? "-",
            ceilingRate.map { fixed(outcome.requestsPerSecond / $0, 2) } ?? "-",
            memory.map { mib($0.rss) } ?? "-",
            String(outcome.result.failures + (ceiling?.result.failures ?? 0)),
        ]
        return "| " + cells.joined(separator: " | ") + " |"
    }

    var eventsPerSecond: Double { outcome.requestsPerSecond * Double(plan.eventsPerRequest) }

    private func ms(_ percentile: Double) -> String {
        fixed(Double(outcome.result.latencyMicros.valueAtPercentile(percentile)) / 1000, 2)
    }

    private func mib(_ bytes: Int) -> String { fixed(Double(bytes) / 1_048_576, 1) }

    private func fixed(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
}
