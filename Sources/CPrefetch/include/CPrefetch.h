#ifndef C_PREFETCH_H
#define C_PREFETCH_H

/// Asks the processor to bring the cache line holding `address` closer, for a read soon (no fault on any address).
/// Swift has no spelling of the instruction; the key table uses it to overlap the cache misses of a batch's lookups.
static inline __attribute__((always_inline)) void dv_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
