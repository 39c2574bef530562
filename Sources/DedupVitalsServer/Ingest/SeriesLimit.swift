import Synchronization

/// `limits.max_series`, read under the group committer's lock for every batch and changed by a reload: an atomic,
/// so that reading it adds no lock there.
final class SeriesLimit: Sendable {
    private let maximum: Atomic<Int>

    init(_ maximum: Int) { self.maximum = Atomic(maximum) }

    var value: Int { maximum.load(ordering: .relaxed) }

    func set(_ value: Int) { maximum.store(value, ordering: .relaxed) }
}
