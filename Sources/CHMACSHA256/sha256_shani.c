// SHA-256 compression with the x86 SHA extensions, one message or two interleaved, for the HMACs of the ingest path
// (see hmac_sha256.c and the header). BoringSSL's own SHA-NI code hashes one message at a time, and its rounds are
// one dependency chain: `sha256rnds2` waits for the previous one. Two messages' rounds interleaved fill those waits,
// so a key's and its payload's hash cost little more than one (docs/performance.md).

#include "sha256_shani.h"

#if DV_SHANI_AVAILABLE

#include <cpuid.h>
#include <immintrin.h>
#include <string.h>

static const uint32_t round_constants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

int dv_sha256_shani_supported(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int ssse3 = (c >> 9) & 1, sse41 = (c >> 19) & 1;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    int sha = (b >> 29) & 1;
    return ssse3 && sse41 && sha;
}

#define DV_TARGET __attribute__((target("sha,sse4.1,ssse3")))

// One message's state in the order `sha256rnds2` wants: (A, B, E, F) and (C, D, G, H).
typedef struct {
    __m128i abef, cdgh;
} lanes;

static inline DV_TARGET lanes load_state(const uint32_t h[8]) {
    __m128i dcba = _mm_loadu_si128((const __m128i *)h);        // lanes 0..3 = A, B, C, D
    __m128i hgfe = _mm_loadu_si128((const __m128i *)(h + 4));  // E, F, G, H
    __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
    __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
    lanes s = {_mm_alignr_epi8(cdab, efgh, 8), _mm_blend_epi16(efgh, cdab, 0xF0)};
    return s;
}

static inline DV_TARGET void store_state(lanes s, uint32_t h[8]) {
    __m128i feba = _mm_shuffle_epi32(s.abef, 0x1B);
    __m128i dchg = _mm_shuffle_epi32(s.cdgh, 0xB1);
    _mm_storeu_si128((__m128i *)h, _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128((__m128i *)(h + 4), _mm_alignr_epi8(dchg, feba, 8));
}

// The message schedule of one block, four words per vector, and the state it is compressed into.
typedef struct {
    lanes s, saved;
    __m128i w[4];
} stream;

static inline DV_TARGET void begin(stream *x, const uint8_t block[64]) {
    const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
#pragma clang loop unroll(full)
    for (int i = 0; i < 4; i++) x->w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block + 16 * i)), swap);
    x->saved = x->s;
}

// Rounds 4i to 4i+3, and the schedule's words for later rounds: group i+1's finished (msg2), group i+3's begun
// (msg1), as in Intel's description of the extensions.
static inline DV_TARGET void rounds(stream *x, int i) {
    __m128i current = x->w[i & 3];
    __m128i message = _mm_add_epi32(current, _mm_loadu_si128((const __m128i *)(round_constants + 4 * i)));
    x->s.cdgh = _mm_sha256rnds2_epu32(x->s.cdgh, x->s.abef, message);
    if (i >= 3 && i <= 14) {
        __m128i next = _mm_add_epi32(x->w[(i + 1) & 3], _mm_alignr_epi8(current, x->w[(i + 3) & 3], 4));
        x->w[(i + 1) & 3] = _mm_sha256msg2_epu32(next, current);
    }
    x->s.abef = _mm_sha256rnds2_epu32(x->s.abef, x->s.cdgh, _mm_shuffle_epi32(message, 0x0E));
    if (i >= 1 && i <= 12) x->w[(i + 3) & 3] = _mm_sha256msg1_epu32(x->w[(i + 3) & 3], current);
}

static inline DV_TARGET void finish(stream *x) {
    x->s.abef = _mm_add_epi32(x->s.abef, x->saved.abef);
    x->s.cdgh = _mm_add_epi32(x->s.cdgh, x->saved.cdgh);
}

DV_TARGET void dv_sha256_shani_blocks(uint32_t h[8], const uint8_t *blocks, size_t count) {
    stream x;
    x.s = load_state(h);
    for (size_t n = 0; n < count; n++) {
        begin(&x, blocks + 64 * n);
        // Unrolled, so that the schedule's four vectors and the constants stay in registers.
#pragma clang loop unroll(full)
        for (int i = 0; i < 16; i++) rounds(&x, i);
        finish(&x);
    }
    store_state(x.s, h);
}

DV_TARGET void dv_sha256_shani_block2(uint32_t ha[8], const uint8_t blockA[64], uint32_t hb[8],
                                     const uint8_t blockB[64]) {
    stream a, b;
    a.s = load_state(ha);
    b.s = load_state(hb);
    begin(&a, blockA);
    begin(&b, blockB);
#pragma clang loop unroll(full)
    for (int i = 0; i < 16; i++) {
        rounds(&a, i);
        rounds(&b, i);
    }
    finish(&a);
    finish(&b);
    store_state(a.s, ha);
    store_state(b.s, hb);
}

#endif
