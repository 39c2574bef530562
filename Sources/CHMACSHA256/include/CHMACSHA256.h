#ifndef C_HMAC_SHA256_H
#define C_HMAC_SHA256_H

#include <stddef.h>
#include <stdint.h>

/// HMAC-SHA-256 (RFC 2104) over BoringSSL's SHA-256, with the states after the padded secret computed once.
///
/// swift-crypto's `HMAC<SHA256>` is slow for short messages on the ingest path: each copy of its
/// prepared state is a heap copy of the digest context, reached through generic code. Here a hash is two plain
/// struct copies and two SHA-256 compressions (SHA-NI where the CPU has it; costs in docs/performance.md), with the
/// message assembly around it, no allocation.
///
/// The SHA-256 functions are BoringSSL's, linked through swift-crypto (which builds BoringSSL with the
/// `CCryptoBoringSSL_` symbol prefix). `dv_sha256_ctx` mirrors its `SHA256_CTX`; the tests compare every result
/// with swift-crypto's `HMAC<SHA256>`, so a change of that layout cannot pass unnoticed.

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
} dv_hmac_sha256_key;

/// Prepares `key` for `secret` (any length; longer than 64 bytes is hashed first, as RFC 2104 says).
void dv_hmac_sha256_init(dv_hmac_sha256_key *key, const uint8_t *secret, size_t length);

/// Writes HMAC-SHA-256(secret, message) to `out` (32 bytes).
void dv_hmac_sha256(const dv_hmac_sha256_key *key, const uint8_t *message, size_t length, uint8_t *out);

#endif
