/* ACL passwords: SHA-256 (nettle) of what `>pass` gives, the `#hash` form,
 * and a user's list of hashes (acl_rules.c applies the rules). */
#include <nettle/sha2.h>
#include <string.h>

#include "acl.h"

int acl_hex_hash(sv_t h, unsigned char out[ACL_HASH_LEN])
{
    if (h.len != 2 * ACL_HASH_LEN)
        return -1;
    for (size_t i = 0; i < h.len; i++) {
        char c = h.p[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0)
            return -1;
        if (i % 2 == 0)
            out[i / 2] = (unsigned char)(v << 4);
        else
            out[i / 2] |= (unsigned char)v;
    }
    return 0;
}

void acl_hash_password(const char *p, size_t n, unsigned char out[ACL_HASH_LEN])
{
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, n, (const uint8_t *)p);
    sha256_digest(&ctx, ACL_HASH_LEN, out);
}

void acl_pw_add(acl_user_t *u, const unsigned char h[ACL_HASH_LEN])
{
    for (int i = 0; i < u->npw; i++)
        if (memcmp(u->pw[i], h, ACL_HASH_LEN) == 0)
            return;
    if (u->npw == u->cappw) {
        u->cappw = u->cappw ? u->cappw * 2 : 2;
        u->pw = xrealloc(u->pw, (size_t)u->cappw * sizeof *u->pw);
    }
    memcpy(u->pw[u->npw++], h, ACL_HASH_LEN);
    u->nopass = 0;
}

int acl_pw_del(acl_user_t *u, const unsigned char h[ACL_HASH_LEN])
{
    for (int i = 0; i < u->npw; i++)
        if (memcmp(u->pw[i], h, ACL_HASH_LEN) == 0) {
            memmove(u->pw[i], u->pw[i + 1], (size_t)(u->npw - i - 1) * ACL_HASH_LEN);
            u->npw--;
            return 0;
        }
    return -1;
}

