#include "CHMACSHA256.h"
#include "sha256_shani.h"

#include <string.h>

// BoringSSL's SHA-256, as built into swift-crypto's CCryptoBoringSSL target (see the header).
extern int CCryptoBoringSSL_SHA256_Init(dv_sha256_ctx *ctx);
extern int CCryptoBoringSSL_SHA256_Update(dv_sha256_ctx *ctx, const void *data, size_t length);
extern int CCryptoBoringSSL_SHA256_Final(uint8_t out[32], dv_sha256_ctx *ctx);

_Static_assert(sizeof(dv_sha256_ctx) == 112, "dv_sha256_ctx must match BoringSSL's SHA256_CTX");

static void prepare(dv_sha256_ctx *ctx, const uint8_t block[64], uint8_t pad) {
    uint8_t padded[64];
    for (int i = 0; i < 64; i++) padded[i] = block[i] ^ pad;
    CCryptoBoringSSL_SHA256_Init(ctx);
    CCryptoBoringSSL_SHA256_Update(ctx, padded, sizeof padded);
    memset(padded, 0, sizeof padded);
}

void dv_hmac_sha256_init(dv_hmac_sha256_key *key, const uint8_t *secret, size_t length) {
    uint8_t block[64] = {0};
    if (length > sizeof block) {
        dv_sha256_ctx ctx;
        CCryptoBoringSSL_SHA256_Init(&ctx);
        CCryptoBoringSSL_SHA256_Update(&ctx, secret, length);
        CCryptoBoringSSL_SHA256_Final(block, &ctx);
    } else if (length > 0) {
        memcpy(block, secret, length);
    }
    prepare(&key->inner, block, 0x36);
    prepare(&key->outer, block, 0x5c);
    memset(block, 0, sizeof block);
#if DV_SHANI_AVAILABLE
    key->shani = dv_sha256_shani_supported();
#else
    key->shani = 0;
#endif
}

static void hmac_boringssl(const dv_hmac_sha256_key *key, const uint8_t *message, size_t length, uint8_t *out) {
    uint8_t inner[32];
    dv_sha256_ctx ctx = key->inner;
    CCryptoBoringSSL_SHA256_Update(&ctx, message, length);
    CCryptoBoringSSL_SHA256_Final(inner, &ctx);
    ctx = key->outer;
    CCryptoBoringSSL_SHA256_Update(&ctx, inner, sizeof inner);
    CCryptoBoringSSL_SHA256_Final(out, &ctx);
}

#if DV_SHANI_AVAILABLE

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

// A message after a prepared 64-byte block, as blocks: its whole blocks in place, then its tail and the padding
// (0x80, zeros, the bit length of everything hashed) in `tail`, one block or two.
typedef struct {
    const uint8_t *message;
    size_t whole, count;
    uint8_t tail[128];
} padded;

static void pad(padded *p, const uint8_t *message, size_t length) {
    p->message = message;
    p->whole = length / 64;
    size_t rest = length % 64;
    size_t tailBlocks = rest <= 55 ? 1 : 2;
    p->count = p->whole + tailBlocks;
    uint8_t *t = p->tail;
    if (rest > 0) memcpy(t, message + 64 * p->whole, rest);
    t[rest] = 0x80;
    size_t end = 64 * tailBlocks;
    memset(t + rest + 1, 0, end - rest - 1 - 8);
    uint64_t bits = (uint64_t)(64 + length) * 8;
    put_be32(t + end - 8, (uint32_t)(bits >> 32));
    put_be32(t + end - 4, (uint32_t)bits);
}

static const uint8_t *block_at(const padded *p, size_t n) {
    return n < p->whole ? p->message + 64 * n : p->tail + 64 * (n - p->whole);
}

// The outer hash's one block: the inner digest, then the padding for 64 + 32 bytes.
static void outer_block(uint8_t block[64], const uint32_t inner[8]) {
    for (int i = 0; i < 8; i++) put_be32(block + 4 * i, inner[i]);
    memset(block + 32, 0, 32);
    block[32] = 0x80;
    block[62] = 0x03;  // 768 bits
}

static void digest(uint8_t *out, const uint32_t h[8]) {
    for (int i = 0; i < 8; i++) put_be32(out + 4 * i, h[i]);
}

static void hmac_shani(const dv_hmac_sha256_key *key, const uint8_t *message, size_t length, uint8_t *out) {
    padded p;
    pad(&p, message, length);
    uint32_t h[8];
    memcpy(h, key->inner.h, sizeof h);
    if (p.whole > 0) dv_sha256_shani_blocks(h, message, p.whole);
    dv_sha256_shani_blocks(h, p.tail, p.count - p.whole);
    uint8_t block[64];
    outer_block(block, h);
    memcpy(h, key->outer.h, sizeof h);
    dv_sha256_shani_blocks(h, block, 1);
    digest(out, h);
}

static void hmac_pair_shani(const dv_hmac_sha256_key *key, const uint8_t *a, size_t aLength, uint8_t *aOut,
                            const uint8_t *b, size_t bLength, uint8_t *bOut) {
    padded pa, pb;
    pad(&pa, a, aLength);
    pad(&pb, b, bLength);
    uint32_t ha[8], hb[8];
    memcpy(ha, key->inner.h, sizeof ha);
    memcpy(hb, key->inner.h, sizeof hb);
    // The blocks both messages have are compressed two at a time, the longer message's others alone.
    size_t common = pa.count < pb.count ? pa.count : pb.count;
    for (size_t n = 0; n < common; n++) dv_sha256_shani_block2(ha, block_at(&pa, n), hb, block_at(&pb, n));
    for (size_t n = common; n < pa.count; n++) dv_sha256_shani_blocks(ha, block_at(&pa, n), 1);
    for (size_t n = common; n < pb.count; n++) dv_sha256_shani_blocks(hb, block_at(&pb, n), 1);
    uint8_t blockA[64], blockB[64];
    outer_block(blockA, ha);
    outer_block(blockB, hb);
    memcpy(ha, key->outer.h, sizeof ha);
    memcpy(hb, key->outer.h, sizeof hb);
    dv_sha256_shani_block2(ha, blockA, hb, blockB);
    digest(aOut, ha);
    digest(bOut, hb);
}

#endif

void dv_hmac_sha256(const dv_hmac_sha256_key *key, const uint8_t *message, size_t length, uint8_t *out) {
#if DV_SHANI_AVAILABLE
    if (key->shani) {
        hmac_shani(key, message, length, out);
        return;
    }
#endif
    hmac_boringssl(key, message, length, out);
}

void dv_hmac_sha256_pair(const dv_hmac_sha256_key *key, const uint8_t *a, size_t aLength, uint8_t *aOut,
                         const uint8_t *b, size_t bLength, uint8_t *bOut) {
#if DV_SHANI_AVAILABLE
    if (key->shani) {
        hmac_pair_shani(key, a, aLength, aOut, b, bLength, bOut);
        return;
    }
#endif
    hmac_boringssl(key, a, aLength, aOut);
    hmac_boringssl(key, b, bLength, bOut);
}

void dv_hmac_sha256_use_shani(dv_hmac_sha256_key *key, int use) {
#if DV_SHANI_AVAILABLE
    key->shani = use && dv_sha256_shani_supported();
#else
    (void)use;
    key->shani = 0;
#endif
}
