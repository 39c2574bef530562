import DequeModule

/// Key-level forensics: the detectors no counter can give (README.md#key-forensics).
///
/// - double execution: a second `miss` for a key within `dedupWindow` of its first miss;
/// - late retry: a second `miss` after the dedup window (the window is shorter than the client's retry policy);
/// - stale in-flight: a `miss` without `completed` for longer than `staleAfter`;
/// - retry delay: `age_ms` of duplicates, or the time since the key's first miss;
/// - suspected narrow keys: one payload fingerprint under `narrowKeyThreshold` different keys within `narrowKeySpan`.
///
/// Pure state, mutated in commit order (each batch as it joins the next commit group). ``process(_:bucketWidthMs:)``
/// returns what to persist, with each touched key's state before and after; when the transaction fails,
/// ``rollback(_:)`` puts the touched records back.
public struct KeyForensics: Sendable {
    public struct Settings: Sendable, Equatable {
        public var dedupWindowMs: Int64
        public var staleAfterMs: Int64
        public var maxKeys: Int
        public var narrowKeySpanMs: Int64
        public var narrowKeyThreshold: Int

        public init(
            dedupWindowMs: Int64, staleAfterMs: Int64, maxKeys: Int, narrowKeySpanMs: Int64 = 600_000, narrowKeyThreshold: Int = 3
        ) {
            self.dedupWindowMs = dedupWindowMs
            self.staleAfterMs = staleAfterMs
            self.maxKeys = maxKeys
            self.narrowKeySpanMs = narrowKeySpanMs
            self.narrowKeyThreshold = narrowKeyThreshold
        }

        /// Records are kept this long after they were last seen: the dedup window plus as much again, to recognise
        /// late retries.
        public var keepMs: Int64 { dedupWindowMs * 2 }
    }

    /// What one processed group does to one key. Its series and its record before the group are kept beside it, in
    /// ``Changes`` (``Changes/series(of:)``, ``Changes/previous(of:)``): a group holds one of these per touched key
    /// (with a fresh key on every event, one per event), and the two took more than half of its bytes, copied on
    /// every append.
    public struct KeyChange: Sendable {
        public var key: KeyHash
        /// The position in the group's events of the first event that touched the key (whose series is the key's).
        let event: Int32
        /// The position of the key's record before the group in ``Changes/previousRecords``; -1 when the key was new.
        let previous: Int32
        /// The record after the group; nil when the key was removed (evicted at the key cap).
        public var current: KeyRecord?
    }

    /// The retry delays one group observed in one series.
    public struct SeriesDelays: Sendable {
        public var series: SeriesKey
        /// The series' index in the ``KeyForensics`` that observed them: what merging several groups' delays finds a
        /// series by without hashing its names. An index names one series for as long as any unsettled group can
        /// hold it (see ``KeyForensics/removeSeries(_:settledThrough:)``), so the groups of one transaction agree.
        public var seriesIndex: UInt32
        public var histogram: RetryDelayHistogram

        public init(series: SeriesKey, seriesIndex: UInt32, histogram: RetryDelayHistogram) {
            self.series = series
            self.seriesIndex = seriesIndex
            self.histogram = histogram
        }
    }

    /// A key the cap evicted that its group had not touched before, with its record before the group (unpacked only
    /// for a rollback: see ``KeyTable/RemovedKey``).
    public struct EvictedKey: Sendable {
        let removed: KeyTable.RemovedKey
        public var key: KeyHash { removed.key }
        public var previous: KeyRecord { removed.record }
    }

    /// What one processed group changes.
    public struct Changes: Sendable {
        /// Detections per (series, bucket), in the detection fields of ``OutcomeCounts``.
        public var detections: [BatchDelta.Cell: OutcomeCounts] = [:]
        /// The retry delays observed by this group alone, each series once, in the order first observed (what the
        /// durable aggregates add; the cumulative histograms stay in ``KeyForensics``).
        public internal(set) var delays: [SeriesDelays] = []
        /// Every touched key once, in the order first touched, with its state before and after the group (with
        /// ``evictedKeys``, what to persist, and what ``KeyForensics/rollback(_:)`` puts back).
        public private(set) var keys: [KeyChange] = []
        /// The position in ``keys`` of each of its keys, once built (``indexed``).
        private var positions: [KeyHash: Int] = [:]
        /// Whether ``positions`` holds every key of ``keys``. It is built on first need: a key can be in ``keys``
        /// already only if it was tracked before its event, or if the cap evicted a key of ``keys`` (see
        /// ``evict(_:mayBeTouched:)``). With a fresh key on every event neither happens, and the dictionary was an
        /// insert per event (docs/performance.md).
        private var indexed = false
        /// Whether a key in ``keys`` was tracked before the group: only then can the cap evict a touched key, unless
        /// the group created more keys than the cap (see ``evict(_:mayBeTouched:)``).
        private var touchedTrackedKeys = false
        /// The keys evicted by the cap that are not in ``keys``, in eviction order: their removal is persisted before
        /// ``keys`` (a key evicted and then created again by the group is in both, its removal first), and
        /// ``KeyForensics/rollback(_:)`` puts them back after undoing ``keys``. Kept apart because with a fresh key on
        /// every event every new key evicts one, and an entry in ``keys`` cost an insert into `positions` (hashing the
        /// key) and the series' names (docs/performance.md).
        public private(set) var evictedKeys: [EvictedKey] = []
        /// Keys evicted because of the key cap.
        public var evicted = 0
        /// Every key the group touched and still tracks has a label below this (``KeyTable/labelBound`` after the
        /// group): what the key log counts its row with.
        public internal(set) var labelBound = 0
        /// Histograms before the group, for rollback: each series once, beside its entry of ``delays`` (the same
        /// position).
        var previousHistograms: [RetryDelayHistogram?] = []
        /// Latest double executions before the group (nil: there was none), for rollback.
        var previousDoubleExecutions: [UInt32: TracedMoment?] = [:]

        /// Which ``KeyForensics/process(_:bucketWidthMs:)`` call made these changes (calls are numbered from 1, in
        /// commit order): what the owner of the write path reports once the group is settled
        /// (``KeyForensics/removeSeries(_:settledThrough:)``).
        public let call: UInt64

        /// The group's events, which ``KeyChange/event`` points into.
        private let events: [ForensicEvent]
        /// The records before the group of the touched keys that were tracked (``KeyChange/previous``).
        private var previousRecords: [KeyRecord] = []

        init(events: [ForensicEvent], call: UInt64) {
            self.events = events
            self.call = call
            keys.reserveCapacity(events.count)
        }

        /// Builds ``positions`` for the keys so far; from then on ``record(_:event:previous:current:)`` keeps it.
        private mutating func indexKeys() {
            guard !indexed else { return }
            indexed = true
            positions.reserveCapacity(events.count)
            for position in keys.indices { positions[keys[position].key] = position }
        }

        /// The retry delays of several groups (in commit order), each series once: what one transaction stores for
        /// them. A series is found by its index, not its names.
        public static func mergedDelays(_ groups: [Changes]) -> [SeriesDelays] {
            guard groups.count > 1 else { return groups.first?.delays ?? [] }
            var merged: [SeriesDelays] = []
            var positions: [UInt32: Int] = [:]
            positions.reserveCapacity(groups.reduce(0) { $0 + $1.delays.count })
            for group in groups {
                for delays in group.delays {
                    if let position = positions[delays.seriesIndex] {
                        merged[position].histogram.merge(delays.histogram)
                    } else {
                        positions[delays.seriesIndex] = merged.count
                        merged.append(delays)
                    }
                }
            }
            return merged
        }

        /// The series of a touched key, as the group's first event for it names it.
        public func series(of change: KeyChange) -> SeriesKey { events[Int(change.event)].series }

        /// The record of a touched key before the group; nil when the key was new.
        public func previous(of change: KeyChange) -> KeyRecord? {
            change.previous < 0 ? nil : previousRecords[Int(change.previous)]
        }

        /// The key's final state in this group: nil when untouched, `.some(nil)` when removed (for tests: an evicted
        /// key is found by a scan).
        public func current(of key: KeyHash) -> KeyRecord?? {
            if let position = indexed ? positions[key] : keys.firstIndex(where: { $0.key == key }) {
                return keys[position].current
            }
            return evictedKeys.contains { $0.key == key } ? .some(nil) : nil
        }

        /// Records `current` as the state of `key`, tracked before the event, after the group so far; `previous`, its
        /// state before the event, is kept when this is the group's first touch of the key. One lookup in `positions`:
        /// the default subscript's modify inserts the next position when the key is new to ``keys``.
        mutating func record(_ key: KeyHash, event: Int, previous: KeyRecord, current: KeyRecord) {
            indexKeys()
            if updateTouched(key, current: current) { return }
            keys.append(
                KeyChange(key: key, event: Int32(event), previous: Int32(previousRecords.count), current: current))
            previousRecords.append(previous)
            touchedTrackedKeys = true
        }

        /// Records `current` as the state of `key`, which the table did not track before the event, after the group
        /// so far. It is new to ``keys`` unless a key of ``keys`` was evicted, which indexes them.
        mutating func recordNew(_ key: KeyHash, event: Int, current: KeyRecord) {
            if indexed, updateTouched(key, current: current) { return }
            keys.append(KeyChange(key: key, event: Int32(event), previous: -1, current: current))
        }

        /// With ``keys`` indexed: sets `key`'s state if it is in ``keys`` and returns true; otherwise claims the next
        /// position for it, which the caller appends.
        private mutating func updateTouched(_ key: KeyHash, current: KeyRecord) -> Bool {
            let next = keys.count
            let position = Self.claim(&positions[key, default: -1], next: next)
            guard position < next else { return false }
            keys[position].current = current
            return true
        }

        /// A key's position in ``keys``, given its entry in `positions` (-1 when just inserted, which becomes `next`).
        /// The default is a constant: a default that captured `next` was a closure allocated on every call.
        private static func claim(_ position: inout Int, next: Int) -> Int {
            if position < 0 { position = next }
            return position
        }

        /// Whether an evicted key can be one of ``keys``: a key tracked before the group, or, once the group created
        /// more keys than `cap`, one of its own.
        func mayHoldEvictedKey(cap: Int) -> Bool { touchedTrackedKeys || keys.count > cap }

        /// Records the eviction of a key; `mayBeTouched` false when the key cannot be in ``keys`` (no lookup then).
        mutating func evict(_ removed: consuming KeyTable.RemovedKey, mayBeTouched: Bool) {
            if mayBeTouched { indexKeys() }
            if mayBeTouched, let position = positions[removed.key] {
                keys[position].current = nil
            } else {
                // With fresh keys every event evicts one: room for as many at once rather than growing by copies.
                if evictedKeys.capacity == 0 { evictedKeys.reserveCapacity(events.count) }
                evictedKeys.append(EvictedKey(removed: removed))
            }
        }
    }

    /// The keys one payload fingerprint was seen under. Most payloads have one key, held inline: `others` only
    /// allocates for a second one.
    private struct Sighting: Sendable {
        var firstMs: Int64
        var firstKey: KeyHash
        var others: [KeyHash] = []
        var flagged = false

        var keyCount: Int { 1 + others.count }
        func contains(_ key: KeyHash) -> Bool { firstKey == key || others.contains(key) }
    }

    public let settings: Settings
    /// The tracked keys, in creation order (the eviction order).
    public private(set) var table = KeyTable()
    /// The series by index. Indexes are dense: a removed series' index goes to a later new series, once no unsettled
    /// group can name it (``removeSeries(_:settledThrough:)``), so that these arrays grow with the most series
    /// tracked at once rather than with every series ever seen.
    private var seriesKeys: [SeriesKey] = []
    private var seriesIndex: [SeriesKey: UInt32] = [:]
    /// Per series index, whether its series was removed (until the index names a new series): a rollback of a group
    /// prepared before the removal puts nothing back there.
    private var retired: [Bool] = []
    /// Retired indexes that groups prepared before their removal may still name, with the last ``process(_:bucketWidthMs:)``
    /// call at their removal: free once that call is settled.
    private var retiring: [(index: UInt32, call: UInt64)] = []
    /// Retired indexes no unsettled group names, for the next new series.
    private var freeIndexes: [UInt32] = []
    /// Keys holding a lock, and the cumulative retry-delay histogram, per series index: arrays beside `seriesKeys`,
    /// so that neither a miss nor a scrape hashes a series for them.
    private var openCounts: [Int] = []
    private var histograms: [RetryDelayHistogram?] = []
    /// Per series index, which ``process(_:bucketWidthMs:)`` call last observed a retry delay in the series and where
    /// that call's ``Changes/delays`` holds it: a group finds its entry for a series without a dictionary keyed by
    /// series (which at 1,000 series was a lookup, an insert and a rehash per series and group; docs/performance.md).
    private var delayEntries: [(call: UInt64, position: Int32)] = []
    /// Counts ``process(_:bucketWidthMs:)`` calls (what ``delayEntries`` compares with).
    private var processCalls: UInt64 = 0
    private var sightings: [KeyHash: Sighting] = [:]
    private var sightingOrder: Deque<KeyHash> = []
    /// The latest double execution with a trace, per series: the exemplar of `dedup_double_executions_total` and the
    /// `trace_id` of double-execution alerts. In memory only.
    private var latestDoubleExecutions: [UInt32: TracedMoment] = [:]
    /// What a retired index names until a new series takes it.
    private static let vacant = SeriesKey(service: "", operation: "")
    /// Keys evicted by the cap since the process started.
    public private(set) var evictions: Int64 = 0

    public init(settings: Settings) {
        self.settings = settings
    }

    public var keyCount: Int { table.count }

    /// Every tracked key's record (builds a dictionary: for tests and tools).
    public var records: [KeyHash: KeyRecord] {
        var records: [KeyHash: KeyRecord] = [:]
        table.forEach { records[$0] = $1 }
        return records
    }

    /// The index of a series, interning it when new (in a free index, or a new one).
    public mutating func index(of series: SeriesKey) -> UInt32 {
        if let index = seriesIndex[series] { return index }
        if let index = freeIndexes.popLast() {
            // Removing the series emptied its state; a rollback since put nothing back (it was retired).
            seriesKeys[Int(index)] = series
            retired[Int(index)] = false
            seriesIndex[series] = index
            return index
        }
        let index = UInt32(seriesKeys.count)
        seriesKeys.append(series)
        seriesIndex[series] = index
        retired.append(false)
        openCounts.append(0)
        histograms.append(nil)
        delayEntries.append((0, 0))
        return index
    }

    /// Series indexes allocated: the most series tracked at once, plus removed ones not yet free (for tests).
    var seriesCapacity: Int { seriesKeys.count }

    // MARK: Processing

    /// Runs the detectors over `events` in order.
    public mutating func process(_ events: [ForensicEvent], bucketWidthMs: Int64) -> Changes {
        processCalls &+= 1
        var changes = Changes(events: events, call: processCalls)
        var keys: [KeyHash] = []
        keys.reserveCapacity(events.count)
        // By index: `compactMap(\.key)` copied each whole event (retaining its series' names).
        for index in events.indices { if let key = events[index].key { keys.append(key) } }
        table.prefetch(keys)
        // The events' fields are read in place: binding each whole event copied it (retaining its series' names).
        for position in events.indices {
            let (outcome, t, trace) = (events[position].outcome, events[position].timeMs, events[position].trace)
            // A known key already has its series index (no string hashing).
            var knownSeriesIndex: UInt32?
            var delaySeconds = outcome.isDuplicate ? events[position].ageMs.map { Double($0) / 1000 } : nil
            if let key = events[position].key {
                // A tracked key and a new one each take their own path: one record, never an optional one (copying
                // and destroying `KeyRecord?` went through its value witnesses, per event; docs/performance.md).
                if let slot = table.position(of: key) {
                    let previous = table.record(at: slot)
                    var record = previous
                    knownSeriesIndex = record.seriesIndex
                    observe(
                        position, of: events, key: key, in: &record, delaySeconds: &delaySeconds, changes: &changes,
                        bucketWidthMs: bucketWidthMs)
                    if previous.open != record.open { openCounts[Int(record.seriesIndex)] += record.open ? 1 : -1 }
                    table.replaceRecord(at: slot, with: record)
                    changes.record(key, event: position, previous: previous, current: record)
                } else {
                    let seriesIndex = index(of: events[position].series)
                    knownSeriesIndex = seriesIndex
                    var record = KeyRecord(seriesIndex: seriesIndex, createdMs: t)
                    observe(
                        position, of: events, key: key, in: &record, delaySeconds: &delaySeconds, changes: &changes,
                        bucketWidthMs: bucketWidthMs)
                    if record.open { openCounts[Int(seriesIndex)] += 1 }
                    table.insert(record, forNewKey: key)
                    changes.recordNew(key, event: position, current: record)
                    evictOverflow(into: &changes)
                }
            }
            if let delaySeconds {
                let seriesIndex = knownSeriesIndex ?? index(of: events[position].series)
                let series = Int(seriesIndex)
                let entry: Int
                if delayEntries[series].call == processCalls {
                    entry = Int(delayEntries[series].position)
                } else {
                    entry = changes.delays.count
                    delayEntries[series] = (processCalls, Int32(entry))
                    changes.previousHistograms.append(histograms[series])
                    changes.delays.append(
                        SeriesDelays(series: seriesKeys[series], seriesIndex: seriesIndex, histogram: RetryDelayHistogram()))
                }
                if histograms[series] == nil { histograms[series] = RetryDelayHistogram() }
                histograms[series]!.observe(seconds: delaySeconds, exemplar: trace.map { TracedMoment(trace: $0, timeMs: t) })
                changes.delays[entry].histogram.observe(seconds: delaySeconds)
            }
        }
        changes.labelBound = table.labelBound
        return changes
    }

    /// What event `position` of `events` does to its key's record (tracked or new): the detections, the counts, the
    /// payload, and the retry delay a duplicate without `age_ms` measures from the first miss.
    @inline(__always)
    private mutating func observe(
        _ position: Int, of events: [ForensicEvent], key: KeyHash, in record: inout KeyRecord, delaySeconds: inout Double?,
        changes: inout Changes, bucketWidthMs: Int64
    ) {
        let (outcome, t, trace) = (events[position].outcome, events[position].timeMs, events[position].trace)
        // Only detections need the cell.
        func cell() -> BatchDelta.Cell {
            BatchDelta.Cell(series: events[position].series, bucketStartMs: BucketClock.start(of: t, widthMs: bucketWidthMs))
        }
        let seriesIndex = record.seriesIndex
        switch outcome {
        case .miss:
            if record.firstMissMs > 0 {
                let detection: KeyTraces.Detection
                if t - record.firstMissMs <= settings.dedupWindowMs {
                    changes.detections[cell(), default: .zero].doubleExecutions += 1
                    detection = .doubleExecution
                    if let trace {
                        noteDoubleExecution(trace, atMs: t, seriesIndex: seriesIndex, into: &changes)
                    }
                } else {
                    changes.detections[cell(), default: .zero].lateRetries += 1
                    record.firstMissMs = t
                    detection = .lateRetry
                }
                if let trace {
                    record.traces = (record.traces ?? KeyTraces(firstMiss: nil)).repeated(trace, as: detection)
                } else if let traces = record.traces, traces.repeatMiss != nil {
                    // The latest repeat carried no trace: an older one would name the wrong request.
                    record.traces = traces.firstMiss.map { KeyTraces(firstMiss: $0) }
                }
            } else {
                record.firstMissMs = t
                if let trace, record.traces == nil { record.traces = KeyTraces(firstMiss: trace) }
            }
            record.lastMissMs = max(record.lastMissMs, t)
            record.open = true
        case .completed:
            record.completedMs = max(record.completedMs, t)
            if record.lastMissMs <= t { record.open = false }
        case .hit, .inFlight:
            if delaySeconds == nil, record.firstMissMs > 0 {
                delaySeconds = Double(max(0, t - record.firstMissMs)) / 1000
            }
        case .mismatch:
            break
        }
        record.count(outcome)
        record.lastSeenMs = max(record.lastSeenMs, t)
        if let payload = events[position].payload {
            if record.payloadFingerprint == 0 {
                record.payloadFingerprint = payload.high
            } else if record.payloadFingerprint != payload.high, record.payloadVariants < .max {
                record.payloadVariants += 1
            }
            if outcome == .miss, sight(payload, key: key, at: t) {
                changes.detections[cell(), default: .zero].narrowKeys += 1
            }
        }
    }

    /// Undoes a processed group whose transaction failed.
    public mutating func rollback(_ changes: Changes) {
        for change in changes.keys { putBack(change.key, previous: changes.previous(of: change)) }
        // After the keys: one evicted and then created again by the group was removed there.
        for evicted in changes.evictedKeys { putBack(evicted.key, previous: evicted.previous) }
        // A series removed since the group was prepared stays removed.
        for (delays, previous) in zip(changes.delays, changes.previousHistograms) where !retired[Int(delays.seriesIndex)] {
            histograms[Int(delays.seriesIndex)] = previous
        }
        for (series, previous) in changes.previousDoubleExecutions where !retired[Int(series)] {
            latestDoubleExecutions[series] = previous
        }
        evictions -= Int64(changes.evicted)
    }

    /// Gives `key` its record before a failed group back (nil: the key was new; a key of a series removed since the
    /// group was prepared was forgotten with its series, and stays forgotten).
    private mutating func putBack(_ key: KeyHash, previous: KeyRecord?) {
        if let current = table[key], current.open { openCounts[Int(current.seriesIndex)] -= 1 }
        guard let previous, !retired[Int(previous.seriesIndex)] else {
            table.removeValue(forKey: key)
            return
        }
        table.updateValue(previous, forKey: key)  // an evicted key comes back as the newest
        if previous.open { openCounts[Int(previous.seriesIndex)] += 1 }
    }

    private mutating func noteDoubleExecution(
        _ trace: TraceContext, atMs timeMs: Int64, seriesIndex: UInt32, into changes: inout Changes
    ) {
        if changes.previousDoubleExecutions[seriesIndex] == nil {
            changes.previousDoubleExecutions[seriesIndex] = .some(latestDoubleExecutions[seriesIndex])
        }
        latestDoubleExecutions[seriesIndex] = TracedMoment(trace: trace, timeMs: timeMs)
    }

    /// Registers a miss of `payload` under `key`; true when this makes the payload a suspected narrow key.
    private mutating func sight(_ payload: KeyHash, key: KeyHash, at t: Int64) -> Bool {
        if var sighting = sightings[payload], t - sighting.firstMs <= settings.narrowKeySpanMs {
            guard !sighting.contains(key) else { return false }
            if sighting.keyCount < settings.narrowKeyThreshold { sighting.others.append(key) }
            let flag = !sighting.flagged && sighting.keyCount >= settings.narrowKeyThreshold
            sighting.flagged = sighting.flagged || flag
            sightings[payload] = sighting
            return flag
        }
        if sightings[payload] == nil { sightingOrder.append(payload) }
        sightings[payload] = Sighting(firstMs: t, firstKey: key)
        // Bound the sightings like the keys.
        while sightings.count > settings.maxKeys, let oldest = sightingOrder.popFirst() { sightings[oldest] = nil }
        return false
    }

    private mutating func evictOverflow(into changes: inout Changes) {
        while table.count > settings.maxKeys, let removed = table.removeOldest() {
            forgetOpen(removed)
            changes.evict(removed, mayBeTouched: changes.mayHoldEvictedKey(cap: settings.maxKeys))
            changes.evicted += 1
            evictions += 1
        }
    }

    private mutating func remove(_ key: KeyHash, _ record: KeyRecord) {
        if record.open { openCounts[Int(record.seriesIndex)] -= 1 }
        table.removeValue(forKey: key)
    }

    /// A removed key no longer holds a lock.
    private mutating func forgetOpen(_ removed: KeyTable.RemovedKey) {
        if removed.isOpen { openCounts[Int(removed.seriesIndex)] -= 1 }
    }

    // MARK: Maintenance

    /// Forgets keys not seen for ``Settings/keepMs`` and old payload sightings; returns the forgotten keys.
    public mutating func expire(nowMs: Int64) -> [KeyHash] {
        let cutoff = nowMs - settings.keepMs
        var expired: [KeyHash] = []
        table.forEach { key, record in if record.lastSeenMs < cutoff { expired.append(key) } }
        for key in expired { if let record = table[key] { remove(key, record) } }
        while let oldest = sightingOrder.first, let sighting = sightings[oldest],
            nowMs - sighting.firstMs > settings.narrowKeySpanMs
        {
            sightingOrder.removeFirst()
            sightings[oldest] = nil
        }
        return expired
    }

    /// Forgets the given series (they expired) and every key of theirs, and retires their indexes.
    ///
    /// `settled` is the last ``process(_:bucketWidthMs:)`` call whose group is settled, committed or rolled back
    /// (``Changes/call``; groups settle in commit order). A group prepared before the removal and not settled yet
    /// still names a removed series by its index: rolling it back restores nothing of that series, and its delays
    /// are merged with its transaction's other groups by index. So an index goes to a new series only once the
    /// calls up to its removal are settled; until then it waits, and is freed by a later removal. Without reuse,
    /// every series ever seen kept its slot in the arrays (its names, an entry of `seriesIndex`, ~150 bytes), which
    /// grew without bound where series come and go.
    public mutating func removeSeries(_ series: Set<SeriesKey>, settledThrough settled: UInt64) {
        var waiting: [(index: UInt32, call: UInt64)] = []
        for entry in retiring {
            if entry.call <= settled { freeIndexes.append(entry.index) } else { waiting.append(entry) }
        }
        retiring = waiting
        let indexes = Set(series.compactMap { seriesIndex[$0] })
        guard !indexes.isEmpty else { return }
        for key in table.keys(where: { indexes.contains($0.seriesIndex) }) {
            if let record = table[key] { remove(key, record) }
        }
        for index in indexes {
            let slot = Int(index)
            histograms[slot] = nil
            openCounts[slot] = 0
            latestDoubleExecutions[index] = nil
            delayEntries[slot] = (0, 0)
            seriesIndex[seriesKeys[slot]] = nil
            seriesKeys[slot] = Self.vacant  // its names freed now, not at reuse
            retired[slot] = true
            if processCalls <= settled { freeIndexes.append(index) } else { retiring.append((index, processCalls)) }
        }
    }

    /// Restores a stored record at start (a later record of the same key replaces an earlier one).
    public mutating func restore(_ key: KeyHash, series: SeriesKey, record: KeyRecord) {
        var record = record
        record.seriesIndex = index(of: series)
        let previous = table.updateValue(record, forKey: key)
        if let previous, previous.open { openCounts[Int(previous.seriesIndex)] -= 1 }
        if record.open { openCounts[Int(record.seriesIndex)] += 1 }
    }

    /// Forgets a key at start (its removal was stored after its record).
    public mutating func forget(_ key: KeyHash) {
        guard let record = table[key] else { return }
        remove(key, record)
    }

    /// After restoring: forgets the keys whose keep time has passed and, oldest first, those over the key cap.
    public mutating func trimRestored(nowMs: Int64) {
        _ = expire(nowMs: nowMs)
        while table.count > settings.maxKeys, let removed = table.removeOldest() { forgetOpen(removed) }
    }

    /// The tracked keys of the given series.
    public func keys(of series: Set<SeriesKey>) -> [KeyHash] {
        let indexes = Set(series.compactMap { seriesIndex[$0] })
        guard !indexes.isEmpty else { return [] }
        return table.keys { indexes.contains($0.seriesIndex) }
    }

    /// Whether `record`, as stored, is the current record of `key` (the series index is not stored).
    public func isCurrent(_ key: KeyHash, _ record: KeyRecord) -> Bool {
        guard let current = table[key] else { return false }
        var stored = record
        stored.seriesIndex = current.seriesIndex
        return stored == current
    }

    /// ``isCurrent(_:_:)`` for each stored record (key-log compaction asks for a pass's records at once).
    public func areCurrent(_ entries: [(hash: KeyHash, record: KeyRecord)]) -> [Bool] {
        table.prefetch(entries.lazy.map(\.hash))
        return entries.map { isCurrent($0.hash, $0.record) }
    }

    /// Restores a stored histogram at start.
    public mutating func restoreHistogram(_ histogram: RetryDelayHistogram, series: SeriesKey) {
        histograms[Int(index(of: series))] = histogram
    }

    // MARK: Reading

    /// Keys holding a lock without an outcome, per series.
    public var inFlightKeys: [SeriesKey: Int] {
        var result: [SeriesKey: Int] = [:]
        for (index, count) in openCounts.enumerated() where count > 0 { result[seriesKeys[index]] = count }
        return result
    }

    /// Of those, the ones whose latest miss is older than the stale threshold (a scan over all keys).
    public func staleInFlightKeys(nowMs: Int64) -> [SeriesKey: Int] {
        let cutoff = nowMs - settings.staleAfterMs
        var counts: [UInt32: Int] = [:]
        table.forEach { _, record in
            if record.open && record.lastMissMs < cutoff { counts[record.seriesIndex, default: 0] += 1 }
        }
        return Dictionary(uniqueKeysWithValues: counts.map { (seriesKeys[Int($0.key)], $0.value) })
    }

    /// The latest double execution that carried a trace, per series.
    public var doubleExecutionExemplars: [SeriesKey: TracedMoment] {
        Dictionary(uniqueKeysWithValues: latestDoubleExecutions.map { (seriesKeys[Int($0.key)], $0.value) })
    }

    /// Cumulative retry-delay histograms per series.
    public var retryDelays: [SeriesKey: RetryDelayHistogram] {
        var result: [SeriesKey: RetryDelayHistogram] = [:]
        for (index, histogram) in histograms.enumerated() {
            if let histogram { result[seriesKeys[index]] = histogram }
        }
        return result
    }

    /// Key-forensics figures of some series, each array in the order the series were asked for.
    public struct SeriesFigures: Sendable {
        /// Keys holding a lock without an outcome.
        public var inFlightKeys: [Int]
        /// Cumulative retry-delay histograms; nil where no retry delay was seen.
        public var retryDelays: [RetryDelayHistogram?]
        /// The latest double execution that carried a trace; nil where none did.
        public var doubleExecutionExemplars: [TracedMoment?]

        init(count: Int) {
            inFlightKeys = Array(repeating: 0, count: count)
            retryDelays = Array(repeating: nil, count: count)
            doubleExecutionExemplars = Array(repeating: nil, count: count)
        }

        /// The figures of `series` read from dictionaries by series (tests and tools; the service asks
        /// ``KeyForensics/figures(of:)``).
        public init(
            series: [SeriesKey], inFlightKeys: [SeriesKey: Int] = [:], retryDelays: [SeriesKey: RetryDelayHistogram] = [:],
            doubleExecutionExemplars: [SeriesKey: TracedMoment] = [:]
        ) {
            self.inFlightKeys = series.map { inFlightKeys[$0] ?? 0 }
            self.retryDelays = series.map { retryDelays[$0] }
            self.doubleExecutionExemplars = series.map { doubleExecutionExemplars[$0] }
        }
    }

    /// The figures of each of `series`, in that order (a scrape's snapshot): one lookup per series, and none when no
    /// key holds a lock and no retry delay or traced double execution was seen. Building ``inFlightKeys`` and
    /// ``retryDelays`` for a scrape and looking each series up in them was a third of the protobuf `/metrics`
    /// rendering at 10,000 series (docs/performance.md).
    public func figures(of series: [RollingWindows.SeriesWindows]) -> SeriesFigures {
        figures(count: series.count) { series[$0].series }
    }

    /// ``figures(of:)`` for series given by key.
    public func figures(of keys: [SeriesKey]) -> SeriesFigures {
        figures(count: keys.count) { keys[$0] }
    }

    /// Not generic over the collection: unspecialised, as a caller in another module gets it, iterating a generic
    /// collection looked up the runtime's type metadata on every step (most of this function's samples).
    private func figures(count: Int, key: (Int) -> SeriesKey) -> SeriesFigures {
        var figures = SeriesFigures(count: count)
        let anyOpen = openCounts.contains { $0 > 0 }
        let anyDelays = histograms.contains { $0 != nil }
        let anyExemplars = !latestDoubleExecutions.isEmpty
        guard anyOpen || anyDelays || anyExemplars else { return figures }
        for position in 0..<count {
            guard let index = seriesIndex[key(position)] else { continue }
            figures.inFlightKeys[position] = openCounts[Int(index)]
            if anyDelays { figures.retryDelays[position] = histograms[Int(index)] }
            if anyExemplars { figures.doubleExecutionExemplars[position] = latestDoubleExecutions[index] }
        }
        return figures
    }

    public func record(for key: KeyHash) -> KeyRecord? { table[key] }
}
