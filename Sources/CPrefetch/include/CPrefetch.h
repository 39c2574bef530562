#ifndef C_PREFETCH_H
#define C_PREFETCH_H

/// Asks the processor to bring the cache line holding `address` closer, for a read soon (no fault on any address).
/// Swift has no spelling of the instruction; the key table uses it to overlap the cache misses of a batch's lookups.
static inline __attribute__((always_inline)) void dv_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// Prefetches every cache line of the `size` bytes at `address` (a table's entry: its key to compare, its value to
/// change).
static inline __attribute__((always_inline)) void dv_prefetch_range(const void *address, unsigned long size) {
    const char *start = (const char *)address;
    for (unsigned long offset = 0; offset < size; offset += 64) __builtin_prefetch(start + offset, 0, 3);
    __builtin_prefetch(start + size - 1, 0, 3);
}

#endif
