import DedupVitalsCore
import Testing

/// `SeriesBuckets` (the newest bucket inline, the older ones in an array) against a sorted list of buckets, under
/// random adds in and out of order, removals and window sums.
@Suite struct SeriesBucketsTests {
    @Test func behavesLikeASortedListOfBuckets() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var buckets = SeriesBuckets()
            var model: [Int64: OutcomeCounts] = [:]
            var now: Int64 = 100
            for _ in 0..<Int.random(in: 0..<60, using: &generator) {
                switch Int.random(in: 0..<10, using: &generator) {
                case 0..<7:
                    // Mostly the current bucket or a newer one; sometimes an older one (a client's late event).
                    if Bool.random(using: &generator) { now += Int64.random(in: 0...2, using: &generator) }
                    let late = Int.random(in: 0..<4, using: &generator) == 0
                    let start = late ? now - Int64.random(in: 1...8, using: &generator) : now
                    let counts = OutcomeCounts(miss: Int64.random(in: 0...3, using: &generator), hit: 1)
                    buckets.add(counts, at: start)
                    model[start, default: .zero] += counts
                case 7:
                    let cutoff = now - Int64.random(in: 0...6, using: &generator)
                    buckets.removeBuckets(before: cutoff)
                    model = model.filter { $0.key >= cutoff }
                default:
                    break
                }
                let expected = model.sorted { $0.key < $1.key }.map { SeriesBuckets.Bucket(startMs: $0.key, counts: $0.value) }
                #expect(buckets.buckets == expected)
                let bounds = [now + 1, now, now - 3, now - 20]
                let sums = bounds.map { bound in model.filter { $0.key >= bound }.values.reduce(OutcomeCounts.zero, +) }
                #expect(buckets.sums(startingAtOrAfter: bounds) == sums)
                #expect(buckets.sums(startingAtOrAfter: bounds, placedAt: [3, 2, 1, 0]) == sums.reversed())
            }
        }
    }

    @Test func equalBucketsCompareEqualHoweverTheyWereAdded() {
        let counts = OutcomeCounts(miss: 1)
        var inOrder = SeriesBuckets()
        inOrder.add(counts, at: 10)
        inOrder.add(counts, at: 20)
        var reversed = SeriesBuckets()
        reversed.add(counts, at: 20)
        reversed.add(counts, at: 10)
        #expect(inOrder == reversed)
        #expect(inOrder.buckets.map(\.startMs) == [10, 20])
    }
}
