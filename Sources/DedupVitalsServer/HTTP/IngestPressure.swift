import HTTPTypes
import Synchronization

/// Bounds concurrent ingest work: at most `maxRequests` requests and `maxBytes` of buffered request bodies at once.
/// A request beyond either bound is refused at once (503 + Retry-After) instead of queuing in memory. The bounds
/// (`limits.max_in_flight_requests`, `limits.max_in_flight_bytes`) are read at each admission, so a reload changes
/// them at once; requests already admitted keep what they hold.
final class IngestPressure: Sendable {
    private struct Usage {
        var requests = 0
        var bytes = 0
    }

    private let limits: LiveConfiguration
    private let usage = Mutex(Usage())

    init(limits: LiveConfiguration) {
        self.limits = limits
    }

    /// One admitted request; release it when the request is answered.
    final class Ticket: Sendable {
        private let pressure: IngestPressure
        private let held = Mutex(0)

        fileprivate init(pressure: IngestPressure) { self.pressure = pressure }

        /// Reserves `bytes` more of body; false when the byte bound would be exceeded.
        func reserve(_ bytes: Int) -> Bool {
            guard pressure.reserve(bytes) else { return false }
            held.withLock { $0 += bytes }
            return true
        }

        /// Returns the request slot and every reserved byte.
        func release() {
            pressure.release(
                bytes: held.withLock { bytes in
                    defer { bytes = 0 }
                    return bytes
                })
        }
    }

    /// A ticket for one more ingest request, whatever its protocol; beyond the bound, the 503 that refuses it
    /// (counted in `limits`).
    func enter(counting limits: LimitCounters) throws(APIError) -> Ticket {
        guard let ticket = admit() else {
            limits.recordOverloadRejection()
            throw Self.overloaded("concurrent ingest requests")
        }
        return ticket
    }

    /// The 503 of a request refused because `what` is at its bound.
    static func overloaded(_ what: String) -> APIError {
        APIError(.serviceUnavailable, code: "overloaded", message: "too many \(what) in flight; retry later", retryAfter: 1)
    }

    /// A ticket, or nil when `maxRequests` requests are already in flight.
    func admit() -> Ticket? {
        let maxRequests = limits.limits.maxInFlightRequests
        let admitted = usage.withLock { usage -> Bool in
            guard usage.requests < maxRequests else { return false }
            usage.requests += 1
            return true
        }
        return admitted ? Ticket(pressure: self) : nil
    }

    /// Requests and bytes now held.
    var current: (requests: Int, bytes: Int) { usage.withLock { ($0.requests, $0.bytes) } }

    private func reserve(_ bytes: Int) -> Bool {
        let maxBytes = limits.limits.maxInFlightBytes
        return usage.withLock { usage in
            guard usage.bytes + bytes <= maxBytes else { return false }
            usage.bytes += bytes
            return true
        }
    }

    private func release(bytes: Int) {
        usage.withLock {
            $0.requests -= 1
            $0.bytes -= bytes
        }
    }
}
