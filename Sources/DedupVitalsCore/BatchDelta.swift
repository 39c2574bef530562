import OrderedCollections

/// What one batch (or several merged batches) adds to the aggregates: counts per series and time bucket.
public struct BatchDelta: Sendable, Equatable {
    /// One (series, bucket) cell.
    public struct Cell: Sendable, Hashable {
        public var series: SeriesKey
        public var bucketStartMs: Int64
        public init(series: SeriesKey, bucketStartMs: Int64) {
            self.series = series
            self.bucketStartMs = bucketStartMs
        }

        /// The series' stored hash and the bucket mixed with the table's seed, without SipHash (see ``HashMixing``).
        public func _rawHashValue(seed: Int) -> Int {
            HashMixing.mix(series.storedHash, Int(bucketStartMs), seed: seed)
        }
    }

    /// Counts per (series, client, bucket) for caller attribution.
    public struct ClientCell: Sendable, Hashable {
        public var series: SeriesKey
        public var clientName: ClientName
        public var bucketStartMs: Int64
        public init(series: SeriesKey, client: ClientName, bucketStartMs: Int64) {
            self.series = series
            self.clientName = client
            self.bucketStartMs = bucketStartMs
        }

        public init(series: SeriesKey, client: String, bucketStartMs: Int64) {
            self.init(series: series, client: ClientName(client), bucketStartMs: bucketStartMs)
        }

        public var client: String { clientName.name }

        /// The series' and the client's stored hashes and the bucket mixed with the table's seed, without SipHash.
        public func _rawHashValue(seed: Int) -> Int {
            HashMixing.mix(series.storedHash &+ clientName.storedHash &* 31, Int(bucketStartMs), seed: seed)
        }
    }

    /// A batch's cells, in the order its events first touched them: kept dense (an array of cells found through a
    /// small table of indices), so that a batch of mostly new cells writes them in order rather than at random slots
    /// of a table sized for its events (docs/performance.md).
    public typealias Cells = OrderedDictionary<Cell, OutcomeCounts>
    public typealias ClientCells = OrderedDictionary<ClientCell, OutcomeCounts>

    public private(set) var cells: Cells = [:]
    public var clientCells: ClientCells = [:]
    /// Events that carry a key, a client or an `age_ms`, in arrival order, for key forensics (until taken by
    /// ``takeForensicEvents()``).
    public private(set) var forensicEvents: [ForensicEvent] = []
    /// Whether any contributing batch had forensic events (still true once they were taken).
    public private(set) var hasForensicEvents = false
    /// When the newest contributing batch was received (drives series expiry).
    public private(set) var receivedAtMs: Int64 = 0
    public private(set) var eventCount = 0

    public init() {}

    /// Aggregates `events` into cells of `bucketWidthMs`; with a `hasher`, keys and payloads are hashed for forensics
    /// (the raw key goes no further than this).
    public init(events: [Event], receivedAtMs: Int64, bucketWidthMs: Int64, hasher: KeyHasher? = nil) {
        self.receivedAtMs = receivedAtMs
        self.eventCount = events.count
        // Up to a cell per event: growing a dictionary rehashes every series key in it.
        cells.reserveCapacity(min(events.count, 1_024))
        if events.first?.client != nil { clientCells.reserveCapacity(min(events.count, 1_024)) }
        for event in events {
            let series = event.series
            let bucket = BucketClock.start(of: event.timeMs, widthMs: bucketWidthMs)
            cells[Cell(series: series, bucketStartMs: bucket), default: .zero][event.outcome] += 1
            if let client = event.client {
                clientCells[ClientCell(series: series, client: client, bucketStartMs: bucket), default: .zero][event.outcome] += 1
            }
            if let hasher, event.key != nil || event.ageMs != nil {
                hasForensicEvents = true
                forensicEvents.append(
                    ForensicEvent(
                        series: series, outcome: event.outcome, key: event.key.map { hasher.hashKey($0, series: series) },
                        payload: event.key == nil ? nil : event.payload.map { hasher.hashPayload($0, series: series) },
                        timeMs: event.timeMs, ageMs: event.ageMs, trace: event.key == nil ? nil : event.trace))
            }
        }
    }

    /// Makes room for `count` (series, bucket) cells, so that merging batches into a group does not grow the
    /// dictionary step by step.
    public mutating func reserveCapacity(cells count: Int, clientCells clientCount: Int = 0) {
        cells.reserveCapacity(count)
        clientCells.reserveCapacity(clientCount)
    }

    /// Moves the forensic events out (key forensics consumed them; a commit group need not carry them).
    public mutating func takeForensicEvents() -> [ForensicEvent] {
        defer { forensicEvents = [] }
        return forensicEvents
    }

    /// Adds detections found by key forensics.
    public mutating func addDetections(_ detections: [Cell: OutcomeCounts]) {
        for (cell, counts) in detections { cells[cell, default: .zero] += counts }
    }

    /// Adds another delta into this one.
    public mutating func merge(_ other: BatchDelta) {
        for (cell, counts) in other.cells { cells[cell, default: .zero] += counts }
        for (cell, counts) in other.clientCells { clientCells[cell, default: .zero] += counts }
        forensicEvents.append(contentsOf: other.forensicEvents)
        hasForensicEvents = hasForensicEvents || other.hasForensicEvents
        receivedAtMs = max(receivedAtMs, other.receivedAtMs)
        eventCount += other.eventCount
    }

    /// Equal when they hold the same cells with the same counts, in whatever order (the cells' order is where their
    /// events first touched them, which says nothing about the aggregates).
    public static func == (lhs: BatchDelta, rhs: BatchDelta) -> Bool {
        func sameCells<Key>(_ a: OrderedDictionary<Key, OutcomeCounts>, _ b: OrderedDictionary<Key, OutcomeCounts>) -> Bool {
            a.count == b.count && a.allSatisfy { b[$0.key] == $0.value }
        }
        return sameCells(lhs.cells, rhs.cells) && sameCells(lhs.clientCells, rhs.clientCells)
            && lhs.forensicEvents == rhs.forensicEvents && lhs.hasForensicEvents == rhs.hasForensicEvents
            && lhs.receivedAtMs == rhs.receivedAtMs && lhs.eventCount == rhs.eventCount
    }

    /// The distinct series this delta touches.
    public var series: Set<SeriesKey> { Set(cells.keys.map(\.series)) }

    /// Counts per series, summed over buckets.
    public var totalsBySeries: [SeriesKey: OutcomeCounts] {
        var totals: [SeriesKey: OutcomeCounts] = [:]
        for (cell, counts) in cells { totals[cell.series, default: .zero] += counts }
        return totals
    }
}

/// Bucket arithmetic.
public enum BucketClock {
    /// The default and largest bucket width: windows are exact to this granularity.
    public static let defaultWidthMs: Int64 = 10_000

    /// Start of the bucket holding `ms` (floor, also for negative times).
    public static func start(of ms: Int64, widthMs: Int64) -> Int64 {
        let q = ms / widthMs
        return (ms % widthMs < 0 ? q - 1 : q) * widthMs
    }
}
