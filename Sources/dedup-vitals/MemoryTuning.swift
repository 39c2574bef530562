/// glibc allocator settings for the service.
///
/// glibc returns freed memory at the top of a heap to the kernel once more than 128 KB is free there
/// (`M_TRIM_THRESHOLD`), with `madvise`. The group-commit writer allocates and frees a few hundred KB per group, so
/// at small batches its heap was trimmed after nearly every group, and each `madvise` interrupts the other CPU to
/// flush its TLB: much of the writer's time at small batches (docs/performance.md). Keeping up to 4 MB free per
/// heap removes that for a few MB of memory at most.
///
/// Allocations from 512 KB up are mapped on their own and unmapped when freed: the buffers of large requests (a body,
/// its events and their forensic records, ~0.5–1 MB each at 5,000 events) then leave nothing behind. Taken from the
/// heaps, they stayed there free but resident after an ingest of such requests, and the service's RSS with them. The
/// price is the page faults of each fresh mapping, measurable at thousands of events per POST only; a lower threshold
/// also mapped the buffers of batches of 500, at a cost there (docs/performance.md, "Results").
enum MemoryTuning {
    static func apply() {
        #if os(Linux)
            _ = mallopt(trimThreshold, 4 << 20)
            _ = mallopt(mmapThreshold, 512 << 10)
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
