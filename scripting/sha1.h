/* sha1 — SHA-1 (FIPS 180-4) for the script cache's names and redis.sha1hex().
 * Not for security: scripts are named by the digest of their body, as Redis does. */
#ifndef PERCORE_SHA1_H
#define PERCORE_SHA1_H

#include <stddef.h>
#include <stdint.h>

typedef struct sha1_ctx {
    uint32_t h[5];
    uint64_t len;       /* bytes hashed so far */
    unsigned char blk[64];
    size_t used;        /* bytes waiting in blk */
} sha1_ctx_t;

void sha1_init(sha1_ctx_t *s);
void sha1_update(sha1_ctx_t *s, const void *p, size_t n);
void sha1_final(sha1_ctx_t *s, unsigned char out[20]);

/* The digest of p[0..n) as 40 lower-case hex digits and a NUL. */
void sha1_hex(const void *p, size_t n, char out[41]);

#endif
