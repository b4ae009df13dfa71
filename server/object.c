#include "object.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "types.h"

/* Redis refuses longer float strings (MAX_LONG_DOUBLE_CHARS). */
#define MAX_FLOAT_CHARS (5 * 1024)

const char *obj_type_name(int type)
{
    switch (type) {
    case OBJ_STRING: return "string";
    case OBJ_LIST: return "list";
    case OBJ_SET: return "set";
    case OBJ_ZSET: return "zset";
    case OBJ_HASH: return "hash";
    default: return "none";
    }
}

sv_t obj_str(const obj_t *o, char tmp[24])
{
    if (o->type != OBJ_STRING)
        return (sv_t){"", 0};
    if (o->enc == ENC_INT) {
        int n = ll_to_str(tmp, o->v.i);
        return (sv_t){tmp, (size_t)n};
    }
    /* An empty string may have no buffer at all; never hand out NULL. */
    if (o->v.s.len == 0)
        return (sv_t){"", 0};
    return (sv_t){o->v.s.p, o->v.s.len};
}

int obj_str_to_ll(const obj_t *o, long long *out)
{
    if (o->type != OBJ_STRING)
        return -1;
    if (o->enc == ENC_INT) {
        *out = o->v.i;
        return 0;
    }
    return str_to_ll(o->v.s.p, o->v.s.len, out);
}

int obj_str_to_ld(const obj_t *o, long double *out)
{
    if (o->type != OBJ_STRING)
        return -1;
    if (o->enc == ENC_INT) {
        *out = (long double)o->v.i;
        return 0;
    }
    return str_to_ld(o->v.s.p, o->v.s.len, out);
}

/* Redis's string2ll: an optional '-', then "0" or digits not starting with 0,
 * nothing else, and within range. */
int str_to_ll(const char *p, size_t n, long long *out)
{
    if (n == 0 || n > 20)
        return -1;
    if (n == 1 && p[0] == '0') {
        *out = 0;
        return 0;
    }
    size_t i = 0;
    int neg = 0;
    if (p[0] == '-') {
        neg = 1;
        i = 1;
        if (n == 1)
            return -1;
    }
    if (p[i] < '1' || p[i] > '9')
        return -1;
    unsigned long long v = 0;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (ULLONG_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1)
            return -1;
        *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
    } else {
        if (v > (unsigned long long)LLONG_MAX)
            return -1;
        *out = (long long)v;
    }
    return 0;
}

/* Shared by both float parsers: a NUL-terminated copy (the input is a view),
 * the parse, and Redis's checks (string2ld/string2d in Redis 7.0): no leading
 * space, whole string consumed, no overflow or underflow to zero, no NaN.
 * "inf" and "-inf" are accepted, as Redis does. */
static int parse_float(const char *p, size_t n, int want_ld, long double *ld, double *d)
{
    char stackbuf[128];
    if (n == 0 || n >= MAX_FLOAT_CHARS)
        return -1;
    if (isspace((unsigned char)p[0]) || memchr(p, '\0', n))
        return -1;
    char *buf = n < sizeof stackbuf ? stackbuf : malloc(n + 1);
    if (!buf)
        return -1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    char *end;
    int ok;
    errno = 0;
    if (want_ld) {
        long double v = strtold(buf, &end);
        ok = end == buf + n && !isnan(v) &&
             !(errno == ERANGE && (isinf(v) || fpclassify(v) == FP_ZERO));
        if (ok)
            *ld = v;
    } else {
        double v = strtod(buf, &end);
        ok = end == buf + n && !isnan(v) &&
             !(errno == ERANGE && (isinf(v) || fpclassify(v) == FP_ZERO));
        if (ok)
            *d = v;
    }
    if (buf != stackbuf)
        free(buf);
    return ok ? 0 : -1;
}

int str_to_ld(const char *p, size_t n, long double *out)
{
    return parse_float(p, n, 1, out, NULL);
}

int str_to_double(const char *p, size_t n, double *out)
{
    return parse_float(p, n, 0, NULL, out);
}

int ll_to_str(char *dst, long long v)
{
    char tmp[24];
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    int n = 0;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    int len = 0;
    if (v < 0)
        dst[len++] = '-';
    while (n)
        dst[len++] = tmp[--n];
    dst[len] = '\0';
    return len;
}

int obj_is_empty(const obj_t *o)
{
    if (o->type == OBJ_STRING)
        return 0;
    if (o->v.ptr == NULL)
        return 1;
    switch (o->type) {
    case OBJ_LIST: return list_len(o->v.ptr) == 0;
    case OBJ_HASH: return hash_len(o->v.ptr) == 0;
    case OBJ_SET: return set_len(o->v.ptr) == 0;
    case OBJ_ZSET: return zset_len(o->v.ptr) == 0;
    default: return 1;
    }
}

void obj_free(obj_t *o)
{
    switch (o->type) {
    case OBJ_STRING:
        if (o->enc == ENC_RAW)
            free(o->v.s.p);
        break;
    case OBJ_LIST: list_free(o->v.ptr); break;
    case OBJ_HASH: hash_free(o->v.ptr); break;
    case OBJ_SET: set_free(o->v.ptr); break;
    case OBJ_ZSET: zset_free(o->v.ptr); break;
    default: break;
    }
    memset(o, 0, sizeof *o);
    o->type = OBJ_STRING;
    o->enc = ENC_INT;
}

size_t obj_mem(const obj_t *o)
{
    if (o->type == OBJ_STRING)
        return o->enc == ENC_RAW && o->v.s.cap ? mem_alloc_size(o->v.s.cap) : 0;
    if (o->v.ptr == NULL)
        return 0;
    switch (o->type) {
    case OBJ_LIST: return list_mem(o->v.ptr);
    case OBJ_HASH: return hash_mem(o->v.ptr);
    case OBJ_SET: return set_mem(o->v.ptr);
    case OBJ_ZSET: return zset_mem(o->v.ptr);
    default: return 0;
    }
}
