import Benchmark
import DedupVitalsCore
import DedupVitalsServer
import OrderedCollections
import Synchronization

/// Component benchmarks of the ingest and read hot paths (figures in docs/performance.md). Run with
/// `swift package --package-path Benchmarks benchmark`.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .throughput, .mallocCountTotal, .peakMemoryResident],
        warmupIterations: 3,
        maxDuration: .seconds(3),
        maxIterations: 100_000
    )

    // MARK: Ingest

    let jsonBody = HotPathFixtures.eventBody()
    let ndjsonBody = HotPathFixtures.eventBody(ndjson: true)
    let decoder = EventDecoder()
    Benchmark("decode+validate 500 events (JSON array)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try decoder.decode(jsonBody, format: .json, nowMs: HotPathFixtures.nowMs))
        }
    }
    Benchmark("decode+validate 500 events (NDJSON)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try decoder.decode(ndjsonBody, format: .ndjson, nowMs: HotPathFixtures.nowMs))
        }
    }

    let events = HotPathFixtures.events()
    Benchmark("aggregate 500 events into buckets (BatchDelta)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(BatchDelta(events: events, receivedAtMs: HotPathFixtures.nowMs, bucketWidthMs: BucketClock.defaultWidthMs))
        }
    }

    let hasher = KeyHasher(secret: Array(repeating: 7, count: 32))
    Benchmark("aggregate 500 events with key and payload hashing (BatchDelta + HMAC-SHA-256)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(
                BatchDelta(
                    events: events, receivedAtMs: HotPathFixtures.nowMs, bucketWidthMs: BucketClock.defaultWidthMs, hasher: hasher
                ))
        }
    }

    // The same events with keys and no payloads: keys are hashed two at a time.
    let keyedEvents = events.map { event in
        var keyed = event
        keyed.payload = nil
        return keyed
    }
    Benchmark("aggregate 500 events with key hashing, no payloads (BatchDelta + HMAC-SHA-256)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(
                BatchDelta(
                    events: keyedEvents, receivedAtMs: HotPathFixtures.nowMs, bucketWidthMs: BucketClock.defaultWidthMs,
                    hasher: hasher))
        }
    }

    // A body decoded and aggregated with its keys and payloads hashed: as strings, by the batch, or where they lie in
    // the body, by the decoder (the service's way since docs/performance.md's "Keys hashed where they lie").
    for inBody in [false, true] {
        let how = inBody ? "in the body (EventDecoder)" : "from strings (BatchDelta)"
        Benchmark("decode and aggregate 500 keyed events, keys hashed \(how)") { benchmark in
            for _ in benchmark.scaledIterations {
                let nowMs = HotPathFixtures.nowMs
                let decoded =
                    inBody
                    ? try decoder.decode(jsonBody, format: .json, nowMs: nowMs, hashing: hasher)
                    : try decoder.decode(jsonBody, format: .json, nowMs: nowMs)
                blackHole(
                    BatchDelta(events: decoded, receivedAtMs: nowMs, bucketWidthMs: BucketClock.defaultWidthMs, hasher: hasher))
            }
        }
    }

    // The service keeps its windows and forensics behind a Mutex and changes them on the commit writer.
    let delta = BatchDelta(events: events, receivedAtMs: HotPathFixtures.nowMs, bucketWidthMs: BucketClock.defaultWidthMs)
    let windows10k = Mutex(HotPathFixtures.windows(seriesCount: 10_000, bucketsPerSeries: 1))
    Benchmark("apply a 500-event delta to 10,000 series (RollingWindows.apply)") { benchmark in
        for _ in benchmark.scaledIterations {
            windows10k.withLock { $0.apply(delta) }
        }
    }

    for series in [1_000, 10_000] {
        let group = HotPathFixtures.clientGroup(series: series)
        let clients = Mutex(HotPathFixtures.clients(series: series))
        Benchmark("apply a group's \(group.clientSlots.count) caller cells of \(series * 7) pairs (ClientAttribution)") {
            benchmark in
            for _ in benchmark.scaledIterations {
                clients.withLock { $0.apply(group) }
            }
        }
    }

    // A batch's cells at 1,000 series and 7 callers, as `BatchDelta` aggregates them and with its client cells keyed
    // by the positions of their series' cells and callers (docs/performance.md).
    let spreadEvents = HotPathFixtures.groupEvents(series: 1_000, batches: 1)[0]
    Benchmark("aggregate 500 events over 1000 series and 7 callers (BatchDelta)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(
                BatchDelta(events: spreadEvents, receivedAtMs: HotPathFixtures.nowMs, bucketWidthMs: BucketClock.defaultWidthMs))
        }
    }
    Benchmark("aggregate 500 events over 1000 series and 7 callers, client cells keyed by positions") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(HotPathFixtures.aggregateInterned(spreadEvents))
        }
    }

    // The writer's merge of a group of 8 batches, as it merges them (one by one into an OrderedDictionary sized for
    // the last group), and the same cells with their series and callers numbered: what the merge would cost were
    // cells keyed by integers rather than names (docs/performance.md).
    for series in [20, 1_000] {
        let deltas = HotPathFixtures.groupDeltas(series: series)
        var size = BatchDelta()
        for delta in deltas { size.merge(delta) }
        let capacity = (cells: size.cells.count, clientCells: size.clientSlots.count)
        Benchmark("merge a group of 8 batches at \(series) series (BatchDelta.merge)") { benchmark in
            for _ in benchmark.scaledIterations {
                var merged = BatchDelta()
                merged.reserveCapacity(cells: capacity.cells, clientCells: capacity.clientCells)
                for delta in deltas { merged.merge(delta) }
                blackHole(merged)
            }
        }
        let interned = HotPathFixtures.internedCells(deltas)
        Benchmark("merge a group of 8 batches at \(series) series, cells keyed by integers") { benchmark in
            for _ in benchmark.scaledIterations {
                var cells = OrderedDictionary<HotPathFixtures.IntegerCell, OutcomeCounts>()
                var clientCells = OrderedDictionary<HotPathFixtures.IntegerCell, OutcomeCounts>()
                cells.reserveCapacity(capacity.cells)
                clientCells.reserveCapacity(capacity.clientCells)
                for batch in interned {
                    for (cell, counts) in batch.cells { cells[cell, default: .zero] += counts }
                    for (cell, counts) in batch.clientCells { clientCells[cell, default: .zero] += counts }
                }
                blackHole(cells)
                blackHole(clientCells)
            }
        }
    }

    let keyed = BatchDelta(
        events: events, receivedAtMs: HotPathFixtures.nowMs, bucketWidthMs: BucketClock.defaultWidthMs, hasher: hasher)
    let forensics = Mutex(KeyForensics(settings: .init(dedupWindowMs: 86_400_000, staleAfterMs: 300_000, maxKeys: 1_000_000)))
    Benchmark("key forensics: process 500 keyed events (keys already tracked after the first run)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(forensics.withLock { $0.process(keyed.forensicEvents, bucketWidthMs: BucketClock.defaultWidthMs) })
        }
    }

    let freshKeys = Mutex<HotPathFixtures.FreshKeys?>(nil)
    Benchmark("key forensics: process 500 fresh keys at the key cap (1,000,000 keys tracked)") { benchmark in
        freshKeys.withLock { fixture in
            if fixture == nil { fixture = HotPathFixtures.FreshKeys(template: keyed.forensicEvents, maxKeys: 1_000_000) }
        }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(freshKeys.withLock { $0!.processNext() })
        }
    }

    // Series that come and go: 1,000,000 series seen over time, 1,000 at once, a key each; each thousand expires
    // before the next arrives. What the process's resident memory grows by shows whether what key forensics keeps
    // per series grows with every series ever seen or with the series tracked at once (docs/performance.md).
    let residentGrowth = BenchmarkMetric.custom("resident memory growth (MiB)", useScalingFactor: false)
    Benchmark(
        "key forensics: 1,000,000 series seen, 1,000 at a time",
        configuration: .init(metrics: [.wallClock, residentGrowth], warmupIterations: 0, maxIterations: 2)
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            let residentBefore = HotPathFixtures.residentMiB()
            var churn = KeyForensics(settings: .init(dedupWindowMs: 86_400_000, staleAfterMs: 300_000, maxKeys: 1_000_000))
            for round in 0..<1_000 {
                let series = (0..<1_000).map { SeriesKey(service: "checkout-service", operation: "operation-\(round)-\($0)") }
                let events = series.enumerated().map { n, series in
                    ForensicEvent(
                        series: series, outcome: .miss, key: KeyHash(high: UInt64(round), low: UInt64(n)), payload: nil,
                        timeMs: HotPathFixtures.nowMs, ageMs: nil)
                }
                let changes = churn.process(events, bucketWidthMs: BucketClock.defaultWidthMs)
                churn.removeSeries(Set(series), settledThrough: changes.call)
            }
            benchmark.measurement(residentGrowth, HotPathFixtures.residentMiB() - residentBefore)
            blackHole(churn)
        }
    }

    // MARK: /metrics

    let counters = HotPathFixtures.counters()
    let windows = HotPathFixtures.windows
    for buckets in [1, 360] {
        let state = HotPathFixtures.windows(seriesCount: 10_000, bucketsPerSeries: buckets)
        Benchmark("snapshot 10,000 series x \(buckets) buckets") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(state.snapshot(windows: windows, nowMs: HotPathFixtures.nowMs))
            }
        }
        Benchmark("GET /metrics work at 10,000 series x \(buckets) buckets (snapshot + render text)") { benchmark in
            for _ in benchmark.scaledIterations {
                let snapshot = state.snapshot(windows: windows, nowMs: HotPathFixtures.nowMs)
                blackHole(MetricsExposition.render(series: snapshot, windows: windows, counters: counters, format: .text))
            }
        }
    }

    let snapshot = HotPathFixtures.windows(seriesCount: 10_000, bucketsPerSeries: 1)
        .snapshot(windows: windows, nowMs: HotPathFixtures.nowMs)
    for format in [ExpositionFormat.text, .openMetrics] {
        Benchmark("render /metrics at 10,000 series (\(format == .text ? "text 0.0.4" : "OpenMetrics"))") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(MetricsExposition.render(series: snapshot, windows: windows, counters: counters, format: format))
            }
        }
    }

    // MARK: Alert rules

    let signals = AlertFixtures.signals(count: 10_000)
    let previous = AlertEvaluation.evaluate(
        rules: AlertFixtures.rules, signals: signals, previous: [], nowMs: HotPathFixtures.nowMs - 30_000,
        repeatIntervalMs: 4 * 3_600_000
    ).instances
    Benchmark("evaluate the \(AlertFixtures.rules.count) default rules at 10,000 series (1,000 unhealthy)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(
                AlertEvaluation.evaluate(
                    rules: AlertFixtures.rules, signals: signals, previous: previous, nowMs: HotPathFixtures.nowMs,
                    repeatIntervalMs: 4 * 3_600_000))
        }
    }
}
