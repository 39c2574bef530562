/// Gives the memory the allocator keeps free back to the kernel, after each maintenance pass.
///
/// glibc keeps freed memory in its heaps (one per thread that allocated, up to eight per core) for later
/// allocations, and returns only what is free at the top of a heap. A burst of large batches (a request of 5,000
/// events decodes into a few MB) leaves holes in several heaps that no longer serve anything: 10–20 MiB with
/// 10,000 series and 1,000,000 tracked keys (docs/performance.md). `malloc_trim(0)` releases every whole free page
/// of every heap; it walks the heaps' free lists (milliseconds), so it runs once per pruning pass, off the
/// request path.
enum AllocatorTrim {
    static func run() {
        #if os(Linux)
            _ = malloc_trim(0)
        #endif
    }
}

#if os(Linux)
    // <malloc.h> is not part of Swift's Glibc module.
    @_silgen_name("malloc_trim")
    private func malloc_trim(_ pad: Int) -> Int32
#endif
