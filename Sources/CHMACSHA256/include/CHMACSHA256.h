#ifndef C_HMAC_SHA256_H
#define C_HMAC_SHA256_H

#include <stddef.h>
#include <stdint.h>

/// HMAC-SHA-256 (RFC 2104) with the states after the padded secret computed once.
///
/// swift-crypto's `HMAC<SHA256>` is slow for short messages on the ingest path: each copy of its
/// prepared state is a heap copy of the digest context, reached through generic code. Here a hash is the message's
/// SHA-256 compressions from the prepared states, with the message's padding around them, and no allocation. On x86
/// CPUs with the SHA extensions the compressions are this module's own (`sha256_shani.c`), which can interleave two
/// messages (`dv_hmac_sha256_pair`: a key and its payload); elsewhere they are BoringSSL's (costs in
/// docs/performance.md).
///
/// The SHA-256 functions are BoringSSL's, linked through swift-crypto (which builds BoringSSL with the
/// `CCryptoBoringSSL_` symbol prefix); they also prepare the states. `dv_sha256_ctx` mirrors its `SHA256_CTX`; the
/// tests compare every result, through both implementations, with swift-crypto's `HMAC<SHA256>`, so a change of that
/// layout cannot pass unnoticed.

typedef struct {
    uint32_t h[8];
    uint32_t Nl, Nh;
    uint8_t data[64];
    unsigned num, md_len;
} dv_sha256_ctx;

/// The SHA-256 states after the inner and the outer padded secret.
typedef struct {
    dv_sha256_ctx inner;
    dv_sha256_ctx outer;
    /// Whether hashes use the SHA extensions (set by `dv_hmac_sha256_init` from the CPU's features).
    int shani;
} dv_hmac_sha256_key;

/// Prepares `key` for `secret` (any length; longer than 64 bytes is hashed first, as RFC 2104 says).
void dv_hmac_sha256_init(dv_hmac_sha256_key *key, const uint8_t *secret, size_t length);

/// Writes HMAC-SHA-256(secret, message) to `out` (32 bytes).
void dv_hmac_sha256(const dv_hmac_sha256_key *key, const uint8_t *message, size_t length, uint8_t *out);

/// Writes HMAC-SHA-256(secret, a) to `aOut` and HMAC-SHA-256(secret, b) to `bOut` (32 bytes each); with the SHA
/// extensions, the two messages' compressions are interleaved.
void dv_hmac_sha256_pair(const dv_hmac_sha256_key *key, const uint8_t *a, size_t aLength, uint8_t *aOut,
                         const uint8_t *b, size_t bLength, uint8_t *bOut);

/// Turns the SHA extensions off (`use` 0) or back on where the CPU has them: the tests check both implementations.
void dv_hmac_sha256_use_shani(dv_hmac_sha256_key *key, int use);

#endif
