import DedupVitalsCore
import Foundation

/// One planned pass of key-log compaction (see ``KeyLog``): the rows it covers, and the entries among them that are
/// still current and move to the end of the log. Written with a group's transaction.
public struct KeyLogCompaction: Sendable {
    /// Rows up to this id are deleted.
    var throughID: Int64
    /// The current entries of those rows, concatenated.
    var moved: [UInt8] = []
    /// How many entries the rows held, and how many of them are kept.
    var read = 0
    var kept = 0

    /// Rows claimed for a pass, read and decoded (``DedupStore/claimKeyLogCompaction(liveKeys:)``): the records
    /// among them are the candidates whose currency the in-memory key forensics decides.
    public struct Claim: Sendable {
        /// The rows after this id are claimed.
        var after: Int64
        var budget: Int
        /// The plans' epoch when the rows were claimed (a failed group starts a new one).
        var epoch: Int
        var rows: [(id: Int64, blob: Data)] = []
        /// The stored records, in log order.
        public internal(set) var candidates: [(hash: KeyHash, record: KeyRecord)] = []
        /// Where each candidate lies in its row's blob, and where each row's candidates end.
        var ranges: [Range<Int>] = []
        var blobEnds: [Int] = []
        /// Entries in the claimed rows (records and removals).
        var read = 0
    }
}
