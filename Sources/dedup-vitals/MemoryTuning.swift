/// glibc allocator settings for the service.
///
/// glibc returns freed memory at the top of a heap to the kernel once more than 128 KB is free there
/// (`M_TRIM_THRESHOLD`), with `madvise`. The group-commit writer allocates and frees a few hundred KB per group, so
/// at small batches its heap was trimmed after nearly every group, and each `madvise` interrupts the other CPU to
/// flush its TLB: much of the writer's time at small batches (docs/performance.md). Keeping up to 4 MB free per
/// heap (and mapping only allocations above 2 MB on their own) removes that for a few MB of memory at most.
enum MemoryTuning {
    static func apply() {
        #if os(Linux)
            _ = mallopt(trimThreshold, 4 << 20)
            _ = mallopt(mmapThreshold, 2 << 20)
        #endif
    }

    // <malloc.h> is not part of Swift's Glibc module.
    private static let trimThreshold: Int32 = -1  // M_TRIM_THRESHOLD
    private static let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD
}

#if os(Linux)
    @_silgen_name("mallopt")
    private func mallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
