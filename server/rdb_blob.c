/* rdb_blob — the compact blobs of rdb.h that a DUMP payload may hold a small
 * or older value in: listpack (Redis 7.0), ziplist (before 7.0), intset and
 * zipmap (before 2.6). Each walker validates the whole blob first (every
 * header, length, back length and offset inside the blob, counts agreeing)
 * and only then hands out elements, so a caller never builds half a value
 * from a corrupt blob. Layouts are summarised above each walker. */
#include <string.h>

#include "rdb.h"

static uint32_t rd_u32le(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static uint64_t rd_le(const unsigned char *p, int w)
{
    uint64_t v = 0;
    for (int i = w - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Sign-extend the low `bits` bits of v. */
static long long sext(uint64_t v, int bits)
{
    if (bits == 64)
        return (long long)v;
    uint64_t m = (uint64_t)1 << (bits - 1);
    v &= ((uint64_t)1 << bits) - 1;
    return (long long)((v ^ m) - m);
}

/* ---- listpack --------------------------------------------------------------
 * u32 total bytes, u16 count (65535: unknown), entries, 0xFF. An entry is an
 * encoding byte (7-bit uint 0xxxxxxx; 6-bit string length 10xxxxxx; 13-bit
 * int 110xxxxx +1; 12-bit string length 1110xxxx +1; 0xF0 32-bit string
 * length; 0xF1..0xF4 int16/24/32/64), its data, then the length of both in
 * 1..5 bytes of 7 bits, the last byte's top bit set when more precede it. */

static size_t backlen_size(uint64_t l)
{
    return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}

static void backlen_encode(uint64_t l, unsigned char *out, size_t sz)
{
    for (size_t i = 0; i < sz; i++) {
        size_t shift = 7 * (sz - 1 - i);
        out[i] = (unsigned char)((l >> shift) & 127);
        if (i > 0)
            out[i] |= 128;
    }
}

/* Decode the entry at p[off] (end: the offset of the terminator). Returns
 * its total size (encoding, data, back length) or 0 when malformed. */
static size_t lp_entry(const unsigned char *p, size_t off, size_t end, rdb_elem_t *e)
{
    size_t left = end - off, hdr, dlen = 0;
    unsigned b = p[off];
    e->p = NULL;
    e->n = 0;
    if ((b & 0x80) == 0) {
        hdr = 1;
        e->v = b & 0x7f;
    } else if ((b & 0xc0) == 0x80) {
        hdr = 1;
        dlen = b & 0x3f;
        e->p = p + off + 1;
    } else if ((b & 0xe0) == 0xc0) {
        hdr = 2;
        if (left < 2)
            return 0;
        e->v = sext(((uint64_t)(b & 0x1f) << 8) | p[off + 1], 13);
    } else if ((b & 0xf0) == 0xe0) {
        hdr = 2;
        if (left < 2)
            return 0;
        dlen = ((size_t)(b & 0x0f) << 8) | p[off + 1];
        e->p = p + off + 2;
    } else if (b == 0xf0) {
        hdr = 5;
        if (left < 5)
            return 0;
        dlen = rd_u32le(p + off + 1);
        e->p = p + off + 5;
    } else if (b >= 0xf1 && b <= 0xf4) {
        static const int w[] = {2, 3, 4, 8};
        int bytes = w[b - 0xf1];
        hdr = 1 + (size_t)bytes;
        if (left < hdr)
            return 0;
        e->v = sext(rd_le(p + off + 1, bytes), bytes * 8);
    } else {
        return 0;
    }
    if (e->p)
        e->n = dlen;
    if (dlen > left || hdr > left - dlen)
        return 0;
    size_t l = hdr + dlen, bl = backlen_size(l);
    if (bl > left - l)
        return 0;
    unsigned char want[5];
    backlen_encode(l, want, bl);
    if (memcmp(p + off + l, want, bl) != 0)
        return 0;
    return l + bl;
}

static int lp_pass(const unsigned char *p, size_t n, rdb_elem_fn *fn, void *arg, size_t *count)
{
    size_t off = 6, end = n - 1, cnt = 0;
    rdb_elem_t e;
    while (off < end) {
        size_t sz = lp_entry(p, off, end, &e);
        if (sz == 0)
            return -1;
        if (fn) {
            int rc = fn(arg, &e);
            if (rc)
                return rc;
        }
        off += sz;
        cnt++;
    }
    *count = cnt;
    return off == end ? 0 : -1;
}

int rdb_listpack_walk(const unsigned char *p, size_t n, rdb_elem_fn *fn, void *arg, size_t *count)
{
    size_t cnt;
    if (n < 7 || rd_u32le(p) != n || p[n - 1] != 0xff)
        return -1;
    if (lp_pass(p, n, NULL, NULL, &cnt) != 0)
        return -1;
    unsigned hdr_cnt = p[4] | ((unsigned)p[5] << 8);
    if (hdr_cnt != 65535 && hdr_cnt != cnt)
        return -1;
    if (count)
        *count = cnt;
    return fn ? lp_pass(p, n, fn, arg, &cnt) : 0;
}

/* ---- ziplist ---------------------------------------------------------------
 * u32 total bytes, u32 offset of the last entry, u16 count (65535: unknown),
 * entries, 0xFF. An entry: the previous entry's size (1 byte below 254, else
 * 0xFE and 4 bytes), an encoding (00xxxxxx 6-bit string length; 01xxxxxx +1
 * 14-bit big endian; 0x80 + 4 bytes big endian; 0xC0 int16, 0xD0 int32, 0xE0
 * int64, 0xF0 int24, 0xFE int8; 0xF1..0xFD the integers 0..12), its data. */

static size_t zl_entry(const unsigned char *p, size_t off, size_t end, size_t *prevlen,
                       rdb_elem_t *e)
{
    size_t left = end - off, plen, hdr, dlen = 0;
    if (p[off] < 254) {
        plen = 1;
        *prevlen = p[off];
    } else if (p[off] == 254) {
        plen = 5;
        if (left < 5)
            return 0;
        *prevlen = rd_u32le(p + off + 1);
    } else {
        return 0;
    }
    if (left <= plen)
        return 0;
    const unsigned char *q = p + off + plen;
    size_t qleft = left - plen;
    unsigned b = q[0];
    e->p = NULL;
    e->n = 0;
    switch (b >> 6) {
    case 0:
        hdr = 1;
        dlen = b & 0x3f;
        break;
    case 1:
        hdr = 2;
        if (qleft < 2)
            return 0;
        dlen = ((size_t)(b & 0x3f) << 8) | q[1];
        break;
    case 2:
        if (b != 0x80)
            return 0;
        hdr = 5;
        if (qleft < 5)
            return 0;
        dlen = ((size_t)q[1] << 24) | ((size_t)q[2] << 16) | ((size_t)q[3] << 8) | q[4];
        break;
    default: {
        int w;
        switch (b) {
        case 0xc0: w = 2; break;
        case 0xd0: w = 4; break;
        case 0xe0: w = 8; break;
        case 0xf0: w = 3; break;
        case 0xfe: w = 1; break;
        default:
            if (b >= 0xf1 && b <= 0xfd) {
                e->v = (long long)(b & 0x0f) - 1;
                return plen + 1;
            }
            return 0;
        }
        if (qleft < 1 + (size_t)w)
            return 0;
        e->v = sext(rd_le(q + 1, w), w * 8);
        return plen + 1 + (size_t)w;
    }
    }
    if (hdr > qleft || dlen > qleft - hdr)
        return 0;
    e->p = q + hdr;
    e->n = dlen;
    return plen + hdr + dlen;
}

static int zl_pass(const unsigned char *p, size_t n, rdb_elem_fn *fn, void *arg, size_t *count,
                   size_t *last)
{
    size_t off = 10, end = n - 1, cnt = 0, prev = 0, prevlen;
    rdb_elem_t e;
    *last = 10;
    while (off < end) {
        size_t sz = zl_entry(p, off, end, &prevlen, &e);
        if (sz == 0 || prevlen != prev)
            return -1;
        if (fn) {
            int rc = fn(arg, &e);
            if (rc)
                return rc;
        }
        *last = off;
        prev = sz;
        off += sz;
        cnt++;
    }
    *count = cnt;
    return off == end ? 0 : -1;
}

int rdb_ziplist_walk(const unsigned char *p, size_t n, rdb_elem_fn *fn, void *arg, size_t *count)
{
    size_t cnt, last;
    if (n < 11 || rd_u32le(p) != n || p[n - 1] != 0xff)
        return -1;
    if (zl_pass(p, n, NULL, NULL, &cnt, &last) != 0 || rd_u32le(p + 4) != last)
        return -1;
    unsigned hdr_cnt = p[8] | ((unsigned)p[9] << 8);
    if (hdr_cnt != 65535 && hdr_cnt != cnt)
        return -1;
    if (count)
        *count = cnt;
    return fn ? zl_pass(p, n, fn, arg, &cnt, &last) : 0;
}

/* ---- intset ----------------------------------------------------------------
 * u32 width (2, 4 or 8), u32 count, then count little-endian integers of that
 * width, strictly ascending. */

int rdb_intset_walk(const unsigned char *p, size_t n, rdb_elem_fn *fn, void *arg, size_t *count)
{
    if (n < 8)
        return -1;
    uint32_t w = rd_u32le(p), cnt = rd_u32le(p + 4);
    if ((w != 2 && w != 4 && w != 8) || cnt == 0 || (n - 8) % w != 0 || (n - 8) / w != cnt)
        return -1;
    long long prev = 0;
    for (uint32_t i = 0; i < cnt; i++) {
        long long v = sext(rd_le(p + 8 + (size_t)i * w, (int)w), (int)w * 8);
        if (i > 0 && v <= prev)
            return -1;
        prev = v;
    }
    if (count)
        *count = cnt;
    for (uint32_t i = 0; fn && i < cnt; i++) {
        rdb_elem_t e = {.p = NULL, .n = 0};
        e.v = sext(rd_le(p + 8 + (size_t)i * w, (int)w), (int)w * 8);
        int rc = fn(arg, &e);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- zipmap ----------------------------------------------------------------
 * u8 count (254: unknown), then per pair: key length (1 byte below 254, else
 * 254 and 4 bytes little endian), key, value length, a byte of free space
 * count, value, the free bytes; 0xFF ends it. */

static int zm_len(const unsigned char *p, size_t *off, size_t end, size_t *len)
{
    if (*off >= end || p[*off] == 255)
        return -1;
    if (p[*off] < 254) {
        *len = p[(*off)++];
        return 0;
    }
    if (end - *off < 5)
        return -1;
    *len = rd_u32le(p + *off + 1);
    *off += 5;
    return 0;
}

static int zm_pass(const unsigned char *p, size_t n, rdb_elem_fn *fn, void *arg, size_t *pairs)
{
    size_t off = 1, end = n - 1, cnt = 0, len;
    while (off < end) {
        rdb_elem_t k = {0}, v = {0};
        if (zm_len(p, &off, end, &len) != 0 || len > end - off)
            return -1;
        k.p = p + off;
        k.n = len;
        off += len;
        if (zm_len(p, &off, end, &len) != 0 || off >= end)
            return -1;
        size_t fr = p[off++];
        if (len > end - off || fr > end - off - len)
            return -1;
        v.p = p + off;
        v.n = len;
        off += len + fr;
        if (fn) {
            int rc = fn(arg, &k);
            if (!rc)
                rc = fn(arg, &v);
            if (rc)
                return rc;
        }
        cnt++;
    }
    *pairs = cnt;
    return off == end ? 0 : -1;
}

int rdb_zipmap_walk(const unsigned char *p, size_t n, rdb_elem_fn *fn, void *arg, size_t *count)
{
    size_t pairs;
    if (n < 2 || p[n - 1] != 0xff)
        return -1;
    if (zm_pass(p, n, NULL, NULL, &pairs) != 0 || (p[0] < 254 && p[0] != pairs))
        return -1;
    if (count)
        *count = pairs * 2;
    return fn ? zm_pass(p, n, fn, arg, &pairs) : 0;
}
