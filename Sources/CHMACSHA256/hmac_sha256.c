#include "CHMACSHA256.h"

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
}

void dv_hmac_sha256(const dv_hmac_sha256_key *key, const uint8_t *message, size_t length, uint8_t *out) {
    uint8_t inner[32];
    dv_sha256_ctx ctx = key->inner;
    CCryptoBoringSSL_SHA256_Update(&ctx, message, length);
    CCryptoBoringSSL_SHA256_Final(inner, &ctx);
    ctx = key->outer;
    CCryptoBoringSSL_SHA256_Update(&ctx, inner, sizeof inner);
    CCryptoBoringSSL_SHA256_Final(out, &ctx);
}
