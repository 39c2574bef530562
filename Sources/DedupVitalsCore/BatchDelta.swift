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

    /// Counts per (series, client, bucket) for caller attribution, with names: the form ``clientCells`` gives and
    /// takes (a batch stores its client cells as ``ClientSlot``s).
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

    /// A (series, client, bucket) cell by position: its (series, bucket) cell's in ``cells`` and its caller's in
    /// ``clientNames``.
    ///
    /// Why positions: a cell keyed by names copies three strings each time it is stored or merged, and each copy is a
    /// call into the runtime's reference counting per string; at 1,000 series that grew with the cells (~3,000 client
    /// cells a commit group). By position, merging a group's batches compares integers (see ``ClientSlotTable``), and
    /// maps each batch's positions to the group's once per (series, bucket) cell and caller (docs/performance.md).
    public struct ClientSlot: Sendable, Hashable {
        public var cell: Int32
        public var client: Int32
        public init(cell: Int32, client: Int32) {
            self.cell = cell
            self.client = client
        }
    }

    /// A batch's cells, in the order its events first touched them: kept dense (an array of cells found through a
    /// small table of indices), so that a batch of mostly new cells writes them in order rather than at random slots
    /// of a table sized for its events (docs/performance.md).
    public typealias Cells = OrderedDictionary<Cell, OutcomeCounts>
    public typealias ClientCells = OrderedDictionary<ClientCell, OutcomeCounts>

    public private(set) var cells: Cells = [:]
    /// The callers of ``clientSlots``, each once.
    public private(set) var clientNames: [ClientName] = []
    /// Counts per (series, client, bucket), by position (see ``ClientSlot``).
    public private(set) var clientSlots = ClientSlotTable()
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
        if events.first?.client != nil {
            clientSlots.reserveCapacity(min(events.count, 1_024), cells: min(events.count, 1_024))
        }
        if let hasher {
            // Hashed through the states, not the hasher: binding the hasher per event retained its owner.
            hasher.withStates { aggregate(events, bucketWidthMs: bucketWidthMs, hashing: $0) }
        } else {
            aggregate(events, bucketWidthMs: bucketWidthMs, hashing: nil)
        }
    }

    /// Adds `events` to the cells, and those with a key or an `age_ms` to ``forensicEvents`` when `hashing`.
    private mutating func aggregate(_ events: [Event], bucketWidthMs: Int64, hashing: KeyHasher.States?) {
        // The caller of the event before: batches usually come from one caller, or a few in runs.
        var lastClient: (name: String, position: Int32)?
        // Keyed events, by position in `events` and in ``forensicEvents``: their keys are hashed after the loop.
        var keyed: [(event: Int32, forensic: Int32)] = []
        // The events' stored fields are read in place: binding each whole event (or calling a computed property of
        // one) copied it, retaining its strings (a key longer than 15 bytes is one on the heap).
        for index in events.indices {
            // From the stored names: the computed `series` of `events[index]` copied the whole event first.
            let series = SeriesKey(service: events[index].service, operation: events[index].operation)
            let (outcome, timeMs) = (events[index].outcome, events[index].timeMs)
            let bucket = BucketClock.start(of: timeMs, widthMs: bucketWidthMs)
            let cell = Self.position(of: Cell(series: series, bucketStartMs: bucket), in: &cells)
            cells.values[Int(cell)][outcome] += 1
            if let client = events[index].client {
                let position: Int32
                if let lastClient, lastClient.name == client {
                    position = lastClient.position
                } else {
                    position = clientPosition(named: client)
                    lastClient = (client, position)
                }
                // The outcome alone, so that the closure does not capture (and copy) the event.
                clientSlots.modify(cell: cell, client: position) { $0[outcome] += 1 }
            }
            if hashing != nil, events[index].isKeyed || events[index].ageMs != nil {
                hasForensicEvents = true
                let hashed = events[index].hashedKey
                let isKeyed = hashed != nil || events[index].key != nil
                if isKeyed, hashed == nil {
                    if keyed.isEmpty { keyed.reserveCapacity(events.count - index) }
                    keyed.append((Int32(index), Int32(forensicEvents.count)))
                }
                forensicEvents.append(
                    ForensicEvent(
                        series: series, outcome: outcome, key: isKeyed ? hashed?.key ?? Self.placeholder : nil,
                        payload: hashed?.payload, timeMs: timeMs, ageMs: events[index].ageMs,
                        trace: isKeyed ? events[index].trace : nil))
            }
        }
        if let hashing, !keyed.isEmpty { hashKeys(keyed, of: events, hashing: hashing) }
    }

    /// Hashes the keys (and payloads) of the `keyed` events into their forensic events, two at a time: a key and its
    /// payload together, a key without one with the next such key (``KeyHasher/States/hashKeys(_:_:_:_:)``). After
    /// the events' loop rather than in it: there, what followed a hash waited for its long chain of SHA-256 rounds
    /// (the next event's `Hasher` reads back what it has just stored, which waits until every older instruction is
    /// done; docs/performance.md).
    private mutating func hashKeys(
        _ keyed: [(event: Int32, forensic: Int32)], of events: [Event], hashing: KeyHasher.States
    ) {
        KeyHasher.pairs(count: keyed.count, hasPayload: { events[Int(keyed[$0].event)].payload != nil }) { step in
            switch step {
            case .keyAndPayload(let position):
                let (event, forensic) = (Int(keyed[position].event), Int(keyed[position].forensic))
                let hashes = hashing.hashKeyAndPayload(
                    events[event].key!, events[event].payload!, series: forensicEvents[forensic].series)
                forensicEvents[forensic].key = hashes.key
                forensicEvents[forensic].payload = hashes.payload
            case .twoKeys(let first, let second):
                let (event, forensic) = (Int(keyed[first].event), Int(keyed[first].forensic))
                let (nextEvent, nextForensic) = (Int(keyed[second].event), Int(keyed[second].forensic))
                let hashes = hashing.hashKeys(
                    events[event].key!, forensicEvents[forensic].series, events[nextEvent].key!,
                    forensicEvents[nextForensic].series)
                forensicEvents[forensic].key = hashes.0
                forensicEvents[nextForensic].key = hashes.1
            case .key(let position):
                let (event, forensic) = (Int(keyed[position].event), Int(keyed[position].forensic))
                forensicEvents[forensic].key = hashing.hashKey(events[event].key!, series: forensicEvents[forensic].series)
            }
        }
    }

    /// The key of a keyed forensic event until ``hashKeys(_:of:hashing:)``; never left in a delta.
    private static let placeholder = KeyHash(high: 0, low: 0)

    /// The position of `cell`, appended with zero counts when new.
    ///
    /// A known cell takes one lookup. A new one takes a second, whose append is cheaper than the insertion at a
    /// position that found or inserted it in one lookup (`updateValue(_:forKey:insertingAt:)`): that inserted into
    /// both arrays through the general range replacement, where an append adds one element (docs/performance.md).
    private static func position(of cell: Cell, in cells: inout Cells) -> Int32 {
        if let position = cells.index(forKey: cell) { return Int32(position) }
        cells.updateValue(.zero, forKey: cell)
        return Int32(cells.count - 1)
    }

    /// The position of the caller named `name` in ``clientNames`` (a batch has a few: a linear search of names),
    /// appended when new, as `hashed` if given: a name is hashed only when it is new to the batch.
    private mutating func clientPosition(named name: String, hashed: ClientName? = nil) -> Int32 {
        if let position = clientNames.firstIndex(where: { $0.name == name }) { return Int32(position) }
        clientNames.append(hashed ?? ClientName(name))
        return Int32(clientNames.count - 1)
    }

    /// The client cells with names, in the order of ``clientSlots``: for the client cap's checks, which are rare, and
    /// for tests. Set, they replace the client cells; each one's (series, bucket) cell must be in ``cells`` already.
    public var clientCells: ClientCells {
        get {
            let keys = cells.keys
            var named = ClientCells(minimumCapacity: clientSlots.count)
            for (slot, counts) in clientSlots {
                let cell = keys[Int(slot.cell)]
                named[
                    ClientCell(
                        series: cell.series, client: clientNames[Int(slot.client)], bucketStartMs: cell.bucketStartMs),
                    default: .zero] += counts
            }
            return named
        }
        set {
            clientNames = []
            clientSlots = ClientSlotTable()
            clientSlots.reserveCapacity(newValue.count, cells: cells.count)
            for (named, counts) in newValue {
                guard let cell = cells.index(forKey: Cell(series: named.series, bucketStartMs: named.bucketStartMs)) else {
                    preconditionFailure("a client cell of a series and bucket the batch does not have")
                }
                clientSlots.add(counts, cell: Int32(cell), client: clientPosition(named: named.client, hashed: named.clientName))
            }
        }
    }

    /// The series and the caller of a client cell (by position).
    public func names(of slot: ClientSlot) -> (series: SeriesKey, client: ClientName) {
        (cells.keys[Int(slot.cell)].series, clientNames[Int(slot.client)])
    }

    /// Makes room for `count` (series, bucket) cells, so that merging batches into a group does not grow the
    /// dictionary step by step.
    public mutating func reserveCapacity(cells count: Int, clientCells clientCount: Int = 0) {
        cells.reserveCapacity(count)
        clientSlots.reserveCapacity(clientCount, cells: count)
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
    ///
    /// Each of `other`'s cells is found or added once, and its position kept, so that `other`'s client cells are
    /// merged by positions mapped to this delta's (no name is hashed, compared or copied for them).
    public mutating func merge(_ other: BatchDelta) {
        let hasClients = !other.clientSlots.isEmpty
        var cellPositions: [Int32] = []
        if hasClients { cellPositions.reserveCapacity(other.cells.count) }
        for (cell, counts) in other.cells {
            let position = Self.position(of: cell, in: &cells)
            cells.values[Int(position)] += counts
            if hasClients { cellPositions.append(position) }
        }
        if hasClients {
            let clientPositions = other.clientNames.map { clientPosition(named: $0.name, hashed: $0) }
            for (slot, counts) in other.clientSlots {
                clientSlots.add(counts, cell: cellPositions[Int(slot.cell)], client: clientPositions[Int(slot.client)])
            }
        }
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
