import DedupVitalsCore
import Dispatch
import Synchronization

/// What the group commit measures about itself: requests per group, the time of each group's transaction, and the
/// time from a batch entering the write path until it is durable and applied.
///
/// The writer records once per group, after the group's requests are resumed, under one lock of its own: the
/// requests themselves only append a monotonic timestamp inside the committer's existing lock section, so
/// measuring adds no lock and no system call to a request's path.
public final class CommitStatistics: Sendable {
    public struct Snapshot: Sendable, Equatable {
        /// Requests (batches) per committed group.
        public var groupSize = BucketHistogram(bounds: CommitStatistics.groupSizeBounds)
        /// Seconds spent in one group's transaction (and applying it to the live state).
        public var commitDuration = BucketHistogram(bounds: BucketHistogram.fastSecondsBounds)
        /// Seconds from a batch entering the write path until its group is durable and applied.
        public var durableLatency = BucketHistogram(bounds: BucketHistogram.fastSecondsBounds)

        public init() {}
    }

    public static let groupSizeBounds: [Double] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]

    private let state = Mutex(Snapshot())

    public init() {}

    /// Monotonic nanoseconds (`CLOCK_MONOTONIC` through the vDSO: no system call).
    @inline(__always)
    public static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// One committed group: its transaction ran from `startNs` to `endNs`; its batches entered at `enteredNs`.
    func recordGroup(startNs: UInt64, endNs: UInt64, enteredNs: [UInt64]) {
        state.withLock { snapshot in
            snapshot.groupSize.observe(Double(enteredNs.count))
            snapshot.commitDuration.observe(Self.seconds(from: startNs, to: endNs))
            for entered in enteredNs { snapshot.durableLatency.observe(Self.seconds(from: entered, to: endNs)) }
        }
    }

    public var snapshot: Snapshot { state.withLock { $0 } }

    private static func seconds(from start: UInt64, to end: UInt64) -> Double {
        end > start ? Double(end - start) / 1e9 : 0
    }
}
