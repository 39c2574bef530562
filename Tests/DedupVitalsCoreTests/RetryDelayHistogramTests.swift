import DedupVitalsCore
import Testing

/// The retry-delay histogram's inline counts: one per bound and +Inf, read back as stored, and compared whole.
@Suite struct RetryDelayHistogramTests {
    @Test func hasABucketPerBoundAndOneAboveThem() {
        #expect(RetryDelayHistogram.bucketCount == RetryDelayHistogram.bounds.count + 1)
        #expect(RetryDelayHistogram().counts == Array(repeating: 0, count: RetryDelayHistogram.bucketCount))
    }

    @Test func countsEachDelayInTheFirstBucketItFits() {
        var histogram = RetryDelayHistogram()
        // On a bound, just above it, below the first, and above the last.
        for seconds in [0.1, 0.1001, 0, -1, 86_400, 86_401, 5] { histogram.observe(seconds: seconds) }
        var expected = Array(repeating: Int64(0), count: RetryDelayHistogram.bucketCount)
        expected[0] = 3
        expected[1] = 1
        expected[5] = 1
        expected[17] = 1
        expected[18] = 1
        #expect(histogram.counts == expected)
        #expect(histogram.withCounts { Array($0) } == expected)
        #expect(histogram.cumulativeCounts == [3, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 6, 7])
        #expect(histogram.count == 7)
        #expect(histogram.sum == 0.1 + 0.1001 + 86_400 + 86_401 + 5)
    }

    @Test func restoresStoredCountsAndRejectsAnotherShape() throws {
        let counts = (0..<Int64(RetryDelayHistogram.bucketCount)).map { $0 * 3 }
        let restored = try #require(RetryDelayHistogram(counts: counts, sum: 12.5))
        #expect(restored.counts == counts)
        #expect(restored.count == counts.reduce(0, +))
        #expect(restored.sum == 12.5)
        #expect(RetryDelayHistogram(counts: Array(counts.dropLast()), sum: 1) == nil)
        #expect(RetryDelayHistogram(counts: counts + [1], sum: 1) == nil)
    }

    @Test func mergesBucketByBucket() throws {
        let first = try #require(RetryDelayHistogram(counts: (0..<19).map { Int64($0) }, sum: 2))
        var merged = try #require(RetryDelayHistogram(counts: (0..<19).map { Int64(100 * $0) }, sum: 3))
        merged.merge(first)
        #expect(merged.counts == (0..<19).map { Int64(101 * $0) })
        #expect(merged.sum == 5)
        #expect(merged.count == first.count * 101)
    }

    @Test func equalOnlyWithTheSameBucketsSumAndExemplars() throws {
        var a = RetryDelayHistogram()
        a.observe(seconds: 1)
        var same = RetryDelayHistogram()
        same.observe(seconds: 1)
        #expect(a == same)
        var otherSum = RetryDelayHistogram()
        otherSum.observe(seconds: 0.9)
        #expect(otherSum.counts == a.counts && otherSum != a)
        // The same count and sum in another bucket.
        let movedCounts = try #require(RetryDelayHistogram(counts: [0, 0, 0, 0, 1] + Array(repeating: 0, count: 14), sum: 1))
        #expect(movedCounts.sum == a.sum && movedCounts.count == a.count)
        #expect(movedCounts != a)
        var traced = RetryDelayHistogram()
        let trace = try #require(TraceContext(traceHigh: 1, traceLow: 2, span: 3))
        traced.observe(seconds: 1, exemplar: TracedMoment(trace: trace, timeMs: 5))
        #expect(traced != a)
        #expect(traced.exemplars[3]?.value == 1)
    }

    @Test func aCopyIsIndependentOfItsSource() {
        var source = RetryDelayHistogram()
        source.observe(seconds: 1)
        let copy = source
        source.observe(seconds: 1)
        source.observe(seconds: 1_000_000)
        #expect(copy.counts[3] == 1 && copy.count == 1)
        #expect(source.counts[3] == 2 && source.counts[18] == 1)
    }
}
