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
}
