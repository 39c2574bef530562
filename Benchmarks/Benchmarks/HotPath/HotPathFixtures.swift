import DedupVitalsCore
import DedupVitalsServer
import OrderedCollections

#if canImport(Glibc)
    import Glibc
#endif

/// Inputs of the hot-path benchmarks, built once.
enum HotPathFixtures {
    /// A fixed receive time; event timestamps are relative to it.
    static let nowMs: Int64 = 1_790_000_000_000
    static let windows: [PromDuration] = [.minutes(1), .minutes(5), .minutes(15), .hours(1)]
    static let outcomes = ["miss", "completed", "hit", "miss", "completed", "in_flight", "miss", "mismatch"]

    /// The process's resident memory in MiB (`/proc/self/statm`'s second field, in pages), for benchmarks that
    /// measure what one piece of state grows by: the benchmark process's peak is dominated by the other fixtures.
    static func residentMiB() -> Int {
        let descriptor = open("/proc/self/statm", O_RDONLY)
        guard descriptor >= 0 else { return 0 }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return 0 }
        let fields = buffer[..<count].split(separator: UInt8(ascii: " "))
        guard fields.count > 1, let pages = Int(String(decoding: fields[1], as: UTF8.self)) else { return 0 }
        return (pages * sysconf(Int32(_SC_PAGESIZE))) >> 20
    }

    /// A 500-event body: every field present (key, payload, client, RFC 3339 `ts`, `age_ms`), over 100 series.
    static func eventBody(count: Int = 500, ndjson: Bool = false) -> [UInt8] {
        var lines: [String] = []
        for index in 0..<count {
            let ts = RFC3339.format(milliseconds: nowMs - Int64(index) * 37)
            lines.append(
                #"{"service":"payments","operation":"op\#(index % 100)","outcome":"\#(outcomes[index % outcomes.count])","#
                    + #""key":"order-\#(index)-7f3a9c","payload":"sha256:\#(index)","client":"checkout","#
                    + #""ts":"\#(ts)","age_ms":\#(index * 13)}"#)
        }
        return Array((ndjson ? lines.joined(separator: "\n") : "[" + lines.joined(separator: ",") + "]").utf8)
    }

    static func events(count: Int = 500) -> [Event] {
        (try? EventDecoder().decode(eventBody(count: count), format: .json, nowMs: nowMs)) ?? []
    }

    /// `seriesCount` series (operations `op0`…), each with `bucketsPerSeries` consecutive 10 s buckets up to now.
    static func windows(seriesCount: Int, bucketsPerSeries: Int) -> RollingWindows {
        var windows = RollingWindows()
        let newest = BucketClock.start(of: nowMs, widthMs: BucketClock.defaultWidthMs)
        for index in 0..<seriesCount {
            let buckets = (0..<bucketsPerSeries).reversed().map { age in
                SeriesBuckets.Bucket(
                    startMs: newest - Int64(age) * BucketClock.defaultWidthMs,
                    counts: OutcomeCounts(miss: 10, hit: 2, inFlight: 1, completed: 9, mismatch: Int64(index % 2)))
            }
            windows.restore(
                SeriesKey(service: "service\(index / 100)", operation: "op\(index % 100)"),
                totals: OutcomeCounts(miss: 1000, hit: 200, inFlight: 10, completed: 990, mismatch: 1),
                lastSeenMs: nowMs, buckets: buckets)
        }
        return windows
    }

    /// A commit group's caller cells as at 1,000 series and 7 callers: 4,000 events (eight batches of 500) in one
    /// bucket, each of a random (series, caller) pair (a fixed seed), as one delta.
    static func clientGroup(series: Int = 1_000, callers: Int = 7, events: Int = 4_000) -> BatchDelta {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let group = (0..<events).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let pair = Int((state >> 33) % UInt64(series * callers))
            return Event(
                service: "load", operation: "op\(pair / callers)", outcome: .miss, client: "caller-\(pair % callers)",
                timeMs: nowMs)
        }
        return BatchDelta(events: group, receivedAtMs: nowMs, bucketWidthMs: BucketClock.defaultWidthMs)
    }

    /// A commit group's batches as the writer takes them: `batches` deltas of 500 events each, every event in a random
    /// series among `series` (a fixed seed) with a caller among `callers`, the `retries` outcome mix, one bucket.
    static func groupDeltas(series: Int, callers: Int = 7, batches: Int = 8) -> [BatchDelta] {
        groupEvents(series: series, callers: callers, batches: batches).enumerated().map { batch, events in
            BatchDelta(events: events, receivedAtMs: nowMs + Int64(batch), bucketWidthMs: BucketClock.defaultWidthMs)
        }
    }

    /// The events of ``groupDeltas(series:callers:batches:)``, a batch of 500 each.
    static func groupEvents(series: Int, callers: Int = 7, batches: Int = 8) -> [[Event]] {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        let mix: [Outcome] = [.miss, .miss, .miss, .miss, .miss, .miss, .miss, .completed, .completed, .hit]
        return (0..<batches).map { _ in
            (0..<500).map { index in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Event(
                    service: "load", operation: "op\((state >> 33) % UInt64(series))", outcome: mix[index % mix.count],
                    client: "c\((state >> 13) % UInt64(callers))", timeMs: nowMs)
            }
        }
    }

    /// A batch's cells as ``BatchDelta`` aggregates them, but with each client cell naming its series by the position
    /// of the series' cell and its caller by the position in the batch's caller names: only series cells carry names.
    static func aggregateInterned(
        _ events: [Event]
    ) -> (
        cells: OrderedDictionary<BatchDelta.Cell, OutcomeCounts>, callers: [String],
        clientCells: OrderedDictionary<IntegerCell, OutcomeCounts>
    ) {
        var cells = OrderedDictionary<BatchDelta.Cell, OutcomeCounts>()
        var clientCells = OrderedDictionary<IntegerCell, OutcomeCounts>()
        var callers: [String] = []
        cells.reserveCapacity(min(events.count, 1_024))
        clientCells.reserveCapacity(min(events.count, 1_024))
        for event in events {
            let cell = BatchDelta.Cell(
                series: event.series, bucketStartMs: BucketClock.start(of: event.timeMs, widthMs: BucketClock.defaultWidthMs))
            let position: Int
            if let found = cells.index(forKey: cell) {
                position = found
            } else {
                cells[cell] = .zero
                position = cells.count - 1
            }
            cells.values[position][event.outcome] += 1
            if let client = event.client {
                let caller = callers.firstIndex(of: client) ?? callers.count
                if caller == callers.count { callers.append(client) }
                clientCells[
                    IntegerCell(series: Int32(position), client: Int32(caller), bucketStartMs: cell.bucketStartMs),
                    default: .zero][event.outcome] += 1
            }
        }
        return (cells, callers, clientCells)
    }

    /// A cell keyed by integers: a series' and a caller's number instead of their names.
    struct IntegerCell: Hashable {
        var series: Int32
        var client: Int32
        var bucketStartMs: Int64

        func _rawHashValue(seed: Int) -> Int {
            HashMixing.mix(Int(series) &* 31 &+ Int(client), Int(bucketStartMs), seed: seed)
        }
    }

    /// The deltas' cells with their series and callers numbered (client -1 for a series cell).
    static func internedCells(
        _ deltas: [BatchDelta]
    ) -> [(
        cells: OrderedDictionary<IntegerCell, OutcomeCounts>, clientCells: OrderedDictionary<IntegerCell, OutcomeCounts>
    )] {
        var series: [SeriesKey: Int32] = [:]
        var clients: [String: Int32] = [:]
        return deltas.map { delta in
            var cells = OrderedDictionary<IntegerCell, OutcomeCounts>()
            var clientCells = OrderedDictionary<IntegerCell, OutcomeCounts>()
            for (cell, counts) in delta.cells {
                let id = series[cell.series] ?? Int32(series.count)
                series[cell.series] = id
                cells[IntegerCell(series: id, client: -1, bucketStartMs: cell.bucketStartMs)] = counts
            }
            for (cell, counts) in delta.clientCells {
                let id = series[cell.series] ?? Int32(series.count)
                series[cell.series] = id
                let client = clients[cell.client] ?? Int32(clients.count)
                clients[cell.client] = client
                clientCells[IntegerCell(series: id, client: client, bucketStartMs: cell.bucketStartMs)] = counts
            }
            return (cells, clientCells)
        }
    }

    /// Caller attribution holding every (series, caller) pair of ``clientGroup(series:callers:events:)``.
    static func clients(series: Int = 1_000, callers: Int = 7) -> ClientAttribution {
        var clients = ClientAttribution(maxClientsPerSeries: 50)
        let all = (0..<(series * callers)).map { pair in
            Event(
                service: "load", operation: "op\(pair / callers)", outcome: .miss, client: "caller-\(pair % callers)",
                timeMs: nowMs)
        }
        clients.apply(BatchDelta(events: all, receivedAtMs: nowMs, bucketWidthMs: BucketClock.defaultWidthMs))
        return clients
    }

    /// Key forensics at its key cap, fed batches whose every key is new: each key is inserted and evicts the oldest,
    /// as with a client that gives every attempt a fresh key.
    struct FreshKeys: Sendable {
        var forensics: KeyForensics
        var events: [ForensicEvent]
        var sent: UInt64 = 0

        /// Fills a key table of `maxKeys` keys with batches like `template` (whose events must all have keys).
        init(template: [ForensicEvent], maxKeys: Int) {
            forensics = KeyForensics(settings: .init(dedupWindowMs: 86_400_000, staleAfterMs: 300_000, maxKeys: maxKeys))
            events = template
            while forensics.keyCount < maxKeys { _ = processNext() }
        }

        /// Gives every event a key not seen before and processes the batch.
        mutating func processNext() -> KeyForensics.Changes {
            for index in events.indices {
                sent &+= 1
                // SplitMix64's finaliser: keys spread like the keyed hashes they stand for.
                var z = sent &* 0x9E37_79B9_7F4A_7C15
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                events[index].key = KeyHash(high: sent, low: z ^ (z >> 31))
            }
            return forensics.process(events, bucketWidthMs: BucketClock.defaultWidthMs)
        }
    }

    /// Ingest counters as a running service has them.
    static func counters() -> IngestCounters {
        let counters = IngestCounters()
        counters.record(code: 202, events: 500, result: .accepted)
        counters.record(code: 400, events: 1, result: .rejected)
        return counters
    }
}
