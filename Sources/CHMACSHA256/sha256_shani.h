#ifndef DV_SHA256_SHANI_H
#define DV_SHA256_SHANI_H

#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__)
#define DV_SHANI_AVAILABLE 1

/// Whether the CPU has the SHA extensions (and SSSE3 and SSE4.1, which the code around them uses).
int dv_sha256_shani_supported(void);

/// Compresses `count` 64-byte blocks into the state `h` (A to H).
void dv_sha256_shani_blocks(uint32_t h[8], const uint8_t *blocks, size_t count);

/// Compresses one block of each of two messages, their rounds interleaved: `blockA` into `ha`, `blockB` into `hb`.
void dv_sha256_shani_block2(uint32_t ha[8], const uint8_t blockA[64], uint32_t hb[8], const uint8_t blockB[64]);
#else
#define DV_SHANI_AVAILABLE 0
#endif

#endif
