/* rdb — the RDB primitives of rdb.h: CRC-64, lengths, strings, doubles and
 * the DUMP payload frame. LZF is Debian's liblzf (the same format Redis's
 * bundled copy writes; its decompressor checks every input and output
 * bound). */
#include "rdb.h"

#include <lzf.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Length prefixes (the top two bits of the first byte). */
#define RDB_6BIT 0
#define RDB_14BIT 1
#define RDB_32BIT 0x80
#define RDB_64BIT 0x81
#define RDB_ENCVAL 3
/* RDB_ENCVAL's kinds (the low six bits). */
#define RDB_ENC_INT8 0
#define RDB_ENC_INT16 1
#define RDB_ENC_INT32 2
#define RDB_ENC_LZF 3

/* Strings longer than this may be compressed (Redis's threshold). */
#define RDB_LZF_MIN 20
/* An LZF back reference of 3 bytes expands to at most 264: no input of n
 * compressed bytes decompresses to more than 88 * n. */
#define RDB_LZF_MAX_RATIO 88
/* proto-max-bulk-len's ceiling: no string in a payload is longer. */
#define RDB_STRING_MAX (512ULL * 1024 * 1024)

/* ---- CRC-64 --------------------------------------------------------------- */

/* Jones's polynomial 0xad93d23594c935a9, reflected (bit-reversed) because the
 * CRC is computed least significant bit first, as Redis's crc64.c does. */
#define CRC64_POLY_REFLECTED 0x95ac9329ac4bc9b5ULL

static uint64_t crc64_table[256];

static void crc64_init(void)
{
    for (unsigned i = 0; i < 256; i++) {
        uint64_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ CRC64_POLY_REFLECTED : c >> 1;
        crc64_table[i] = c;
    }
}

uint64_t rdb_crc64(uint64_t crc, const void *p, size_t n)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, crc64_init);
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        crc = crc64_table[(uint8_t)(crc ^ s[i])] ^ (crc >> 8);
    return crc;
}

/* ---- writing -------------------------------------------------------------- */

void rdb_put_type(buf_t *b, int type)
{
    buf_putc(b, (char)type);
}

void rdb_put_len(buf_t *b, uint64_t len)
{
    unsigned char t[9];
    if (len < (1 << 6)) {
        t[0] = (unsigned char)len;
        buf_append(b, t, 1);
    } else if (len < (1 << 14)) {
        t[0] = (unsigned char)((RDB_14BIT << 6) | (len >> 8));
        t[1] = (unsigned char)(len & 0xff);
        buf_append(b, t, 2);
    } else if (len <= UINT32_MAX) {
        t[0] = RDB_32BIT;
        for (int i = 0; i < 4; i++)
            t[1 + i] = (unsigned char)(len >> (24 - 8 * i)); /* big endian */
        buf_append(b, t, 5);
    } else {
        t[0] = RDB_64BIT;
        for (int i = 0; i < 8; i++)
            t[1 + i] = (unsigned char)(len >> (56 - 8 * i));
        buf_append(b, t, 9);
    }
}

/* The integer encodings of a canonical integer string (at most 11 bytes,
 * "-2147483648"); 0 when it has none. */
static size_t encode_int(const char *p, size_t n, unsigned char out[5])
{
    long long v;
    char tmp[24];
    if (n == 0 || n > 11 || str_to_ll(p, n, &v) != 0)
        return 0;
    if ((size_t)ll_to_str(tmp, v) != n || memcmp(tmp, p, n) != 0)
        return 0; /* "007", "+1": not what the integer reads back as */
    if (v >= -(1 << 7) && v <= (1 << 7) - 1) {
        out[0] = (RDB_ENCVAL << 6) | RDB_ENC_INT8;
        out[1] = (unsigned char)((unsigned long long)v & 0xff);
        return 2;
    }
    if (v >= -(1 << 15) && v <= (1 << 15) - 1) {
        out[0] = (RDB_ENCVAL << 6) | RDB_ENC_INT16;
        out[1] = (unsigned char)((unsigned long long)v & 0xff);
        out[2] = (unsigned char)(((unsigned long long)v >> 8) & 0xff);
        return 3;
    }
    if (v >= -((long long)1 << 31) && v <= ((long long)1 << 31) - 1) {
        out[0] = (RDB_ENCVAL << 6) | RDB_ENC_INT32;
        for (int i = 0; i < 4; i++)
            out[1 + i] = (unsigned char)(((unsigned long long)v >> (8 * i)) & 0xff);
        return 5;
    }
    return 0;
}

/* Append the LZF form when it saves at least 4 bytes; 0 when not written. */
static int put_lzf(buf_t *b, const char *p, size_t n)
{
    if (n <= 4 || n > UINT32_MAX)
        return 0;
    size_t cap = n - 4;
    unsigned char *out = xmalloc(cap);
    unsigned clen = lzf_compress(p, (unsigned)n, out, (unsigned)cap);
    if (clen == 0) {
        free(out);
        return 0;
    }
    buf_putc(b, (char)((RDB_ENCVAL << 6) | RDB_ENC_LZF));
    rdb_put_len(b, clen);
    rdb_put_len(b, n);
    buf_append(b, out, clen);
    free(out);
    return 1;
}

static _Atomic int rdb_compress = 1;

void rdb_set_compression(int on)
{
    atomic_store_explicit(&rdb_compress, on, memory_order_relaxed);
}

void rdb_put_string(buf_t *b, const char *p, size_t n)
{
    unsigned char enc[5];
    size_t el = encode_int(p, n, enc);
    if (el) {
        buf_append(b, enc, el);
        return;
    }
    if (n > RDB_LZF_MIN && atomic_load_explicit(&rdb_compress, memory_order_relaxed) &&
        put_lzf(b, p, n))
        return;
    rdb_put_len(b, n);
    buf_append(b, p, n);
}

void rdb_put_double_bin(buf_t *b, double v)
{
    uint64_t u;
    unsigned char t[8];
    memcpy(&u, &v, 8);
    for (int i = 0; i < 8; i++)
        t[i] = (unsigned char)(u >> (8 * i)); /* little endian */
    buf_append(b, t, 8);
}

void rdb_put_frame(buf_t *b)
{
    unsigned char t[8];
    t[0] = RDB_VERSION & 0xff;
    t[1] = (RDB_VERSION >> 8) & 0xff;
    buf_append(b, t, 2);
    uint64_t crc = rdb_crc64(0, b->data, b->len);
    for (int i = 0; i < 8; i++)
        t[i] = (unsigned char)(crc >> (8 * i));
    buf_append(b, t, 8);
}

/* ---- reading -------------------------------------------------------------- */

int rdb_check_frame(const void *p, size_t n, rdb_reader_t *r)
{
    const unsigned char *s = p;
    if (n < 10)
        return -1;
    unsigned ver = s[n - 10] | ((unsigned)s[n - 9] << 8);
    if (ver > RDB_VERSION)
        return -1;
    uint64_t crc = 0;
    for (int i = 0; i < 8; i++)
        crc |= (uint64_t)s[n - 8 + i] << (8 * i);
    if (rdb_crc64(0, s, n - 8) != crc)
        return -1;
    r->p = s;
    r->len = n - 10;
    r->off = 0;
    r->inflated = 0;
    return 0;
}

static int get_bytes(rdb_reader_t *r, void *out, size_t n)
{
    if (r->len - r->off < n)
        return -1;
    memcpy(out, r->p + r->off, n);
    r->off += n;
    return 0;
}

int rdb_get_type(rdb_reader_t *r, int *type)
{
    unsigned char t;
    if (get_bytes(r, &t, 1) != 0)
        return -1;
    *type = t;
    return 0;
}

/* A length, or (*encoded set) an RDB_ENCVAL kind in *len. */
static int get_len_enc(rdb_reader_t *r, uint64_t *len, int *encoded)
{
    unsigned char t[8];
    *encoded = 0;
    if (get_bytes(r, t, 1) != 0)
        return -1;
    int kind = (t[0] & 0xc0) >> 6;
    if (kind == RDB_ENCVAL) {
        *encoded = 1;
        *len = t[0] & 0x3f;
    } else if (kind == RDB_6BIT) {
        *len = t[0] & 0x3f;
    } else if (kind == RDB_14BIT) {
        unsigned char lo;
        if (get_bytes(r, &lo, 1) != 0)
            return -1;
        *len = ((uint64_t)(t[0] & 0x3f) << 8) | lo;
    } else if (t[0] == RDB_32BIT || t[0] == RDB_64BIT) {
        size_t w = t[0] == RDB_32BIT ? 4 : 8;
        if (get_bytes(r, t, w) != 0)
            return -1;
        uint64_t v = 0;
        for (size_t i = 0; i < w; i++)
            v = (v << 8) | t[i];
        *len = v;
    } else {
        return -1;
    }
    return 0;
}

int rdb_get_len(rdb_reader_t *r, uint64_t *len)
{
    int enc;
    if (get_len_enc(r, len, &enc) != 0 || enc)
        return -1;
    return 0;
}

static int get_lzf(rdb_reader_t *r, buf_t *out)
{
    uint64_t clen, ulen;
    if (rdb_get_len(r, &clen) != 0 || rdb_get_len(r, &ulen) != 0)
        return -1;
    if (clen == 0 || clen > r->len - r->off || ulen == 0 || ulen > RDB_STRING_MAX ||
        ulen > clen * RDB_LZF_MAX_RATIO || ulen > RDB_INFLATE_MAX - r->inflated)
        return -1;
    r->inflated += ulen;
    buf_reserve(out, ulen);
    unsigned got = lzf_decompress(r->p + r->off, (unsigned)clen, out->data, (unsigned)ulen);
    if (got != ulen)
        return -1;
    out->len = ulen;
    r->off += clen;
    return 0;
}

int rdb_get_string(rdb_reader_t *r, buf_t *out)
{
    uint64_t len;
    int enc;
    out->len = 0;
    if (get_len_enc(r, &len, &enc) != 0)
        return -1;
    if (enc) {
        unsigned char t[4];
        long long v;
        switch (len) {
        case RDB_ENC_INT8:
            if (get_bytes(r, t, 1) != 0)
                return -1;
            v = (int8_t)t[0];
            break;
        case RDB_ENC_INT16:
            if (get_bytes(r, t, 2) != 0)
                return -1;
            v = (int16_t)(t[0] | (t[1] << 8));
            break;
        case RDB_ENC_INT32:
            if (get_bytes(r, t, 4) != 0)
                return -1;
            v = (int32_t)((uint32_t)t[0] | ((uint32_t)t[1] << 8) | ((uint32_t)t[2] << 16) |
                          ((uint32_t)t[3] << 24));
            break;
        case RDB_ENC_LZF: return get_lzf(r, out);
        default: return -1;
        }
        char tmp[24];
        int n = ll_to_str(tmp, v);
        buf_append(out, tmp, (size_t)n);
        return 0;
    }
    if (len > r->len - r->off)
        return -1;
    buf_append(out, r->p + r->off, len);
    r->off += len;
    return 0;
}

int rdb_get_double_bin(rdb_reader_t *r, double *v)
{
    unsigned char t[8];
    if (get_bytes(r, t, 8) != 0)
        return -1;
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u |= (uint64_t)t[i] << (8 * i);
    memcpy(v, &u, 8);
    return 0;
}

int rdb_get_double_text(rdb_reader_t *r, double *v)
{
    unsigned char n;
    char tmp[256];
    if (get_bytes(r, &n, 1) != 0)
        return -1;
    switch (n) {
    case 253: *v = NAN; return 0;
    case 254: *v = INFINITY; return 0;
    case 255: *v = -INFINITY; return 0;
    default:
        if (get_bytes(r, tmp, n) != 0)
            return -1;
        tmp[n] = 0;
        char *end;
        *v = strtod(tmp, &end);
        return end == tmp + n && n > 0 ? 0 : -1;
    }
}
