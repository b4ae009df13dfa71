/* resp_reply — composing replies into buffers, RESP2 or RESP3 (the request
 * parser is resp.c; both are declared in resp.h). */
#include "resp.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- reply composing ---------------------------------------------------- */

/* "00" "01" ... "99": two digits per division on the hot path. */
static const char digit_pairs[201] = "00010203040506070809"
                                     "10111213141516171819"
                                     "20212223242526272829"
                                     "30313233343536373839"
                                     "40414243444546474849"
                                     "50515253545556575859"
                                     "60616263646566676869"
                                     "70717273747576777879"
                                     "80818283848586878889"
                                     "90919293949596979899";

/* Write v in decimal to dst (room for 20 bytes); returns the length. */
static inline size_t u64_to_dec(char *dst, unsigned long long v)
{
    char tmp[20];
    size_t i = sizeof tmp;

    while (v >= 100) {
        unsigned d = (unsigned)(v % 100) * 2;
        v /= 100;
        tmp[--i] = digit_pairs[d + 1];
        tmp[--i] = digit_pairs[d];
    }
    if (v >= 10) {
        unsigned d = (unsigned)v * 2;
        tmp[--i] = digit_pairs[d + 1];
        tmp[--i] = digit_pairs[d];
    } else {
        tmp[--i] = (char)('0' + v);
    }
    memcpy(dst, tmp + i, sizeof tmp - i);
    return sizeof tmp - i;
}

/* Write v in decimal to dst (room for 20 bytes, LLONG_MIN included). */
static inline size_t ll_to_dec(char *dst, long long v)
{
    if (v < 0) {
        dst[0] = '-';
        return 1 + u64_to_dec(dst + 1, 0ULL - (unsigned long long)v);
    }
    return u64_to_dec(dst, (unsigned long long)v);
}

#define HDR_MAX 23 /* type byte, 20 characters of number, CRLF */

/* Write "<type><v>\r\n" to dst; returns the length. */
static inline size_t fmt_hdr(char *dst, char type, long long v)
{
    size_t n;

    dst[0] = type;
    if (v >= 0 && v < 10) { /* the common short aggregates and bulks */
        dst[1] = (char)('0' + v);
        n = 2;
    } else {
        n = 1 + ll_to_dec(dst + 1, v);
    }
    dst[n] = '\r';
    dst[n + 1] = '\n';
    return n + 2;
}

/* May r's buffer grow by n bytes? Past its limit, the append is dropped. */
static inline int room(reply_t *r, size_t n)
{
    if (r->limit && (r->overflow || r->out->len + n > r->limit)) {
        r->overflow = 1;
        return 0;
    }
    return 1;
}

static inline void put_hdr(reply_t *r, char type, long long v)
{
    if (!room(r, HDR_MAX))
        return;
    buf_reserve(r->out, HDR_MAX);
    r->out->len += fmt_hdr(r->out->data + r->out->len, type, v);
}

static inline void put_lit(reply_t *r, const char *s, size_t n)
{
    if (room(r, n))
        buf_append(r->out, s, n);
}

void reply_status(reply_t *r, const char *s)
{
    size_t n = strlen(s);
    buf_t *b = r->out;

    if (!room(r, n + 3))
        return;
    buf_reserve(b, n + 3);
    b->data[b->len++] = '+';
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len++] = '\r';
    b->data[b->len++] = '\n';
}

void reply_ok(reply_t *r)
{
    put_lit(r, "+OK\r\n", 5);
}

void reply_error(reply_t *r, const char *msg)
{
    buf_t *b = r->out;
    size_t n;

    if (msg[0] == '-') /* tolerate a caller that already wrote the dash */
        msg++;
    n = strlen(msg);
    buf_reserve(b, n + 3);
    b->data[b->len++] = '-';
    for (size_t i = 0; i < n; i++) {
        char c = msg[i];
        /* a CR or LF inside the text would end the reply early */
        b->data[b->len++] = (c == '\r' || c == '\n') ? ' ' : c;
    }
    b->data[b->len++] = '\r';
    b->data[b->len++] = '\n';
    reply_note_error(r, msg, n);
}

void reply_note_error(reply_t *r, const char *msg, size_t n)
{
    size_t k = 0;
    while (k < n && k < sizeof r->err - 1 && msg[k] != ' ' && msg[k] != '\r' && msg[k] != '\n')
        k++;
    memcpy(r->err, msg, k);
    r->err[k] = '\0';
    r->errors++;
}

void reply_errorf(reply_t *r, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) {
        reply_error(r, "ERR internal error formatting a reply");
        return;
    }
    if ((size_t)n < sizeof tmp) {
        reply_error(r, tmp);
        return;
    }
    char *big = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    reply_error(r, big);
    free(big);
}

void reply_int(reply_t *r, long long v)
{
    put_hdr(r, ':', v);
}

void reply_bulk(reply_t *r, const void *p, size_t n)
{
    buf_t *b = r->out;

    /* one reservation for header, payload and trailer */
    if (!room(r, HDR_MAX + n + 2))
        return;
    buf_reserve(b, HDR_MAX + n + 2);
    b->len += fmt_hdr(b->data + b->len, '$', (long long)n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len++] = '\r';
    b->data[b->len++] = '\n';
}

void reply_bulk_cstr(reply_t *r, const char *s)
{
    if (!s) {
        reply_null(r);
        return;
    }
    reply_bulk(r, s, strlen(s));
}

void reply_bulk_ll(reply_t *r, long long v)
{
    char tmp[20];
    size_t n = ll_to_dec(tmp, v);
    reply_bulk(r, tmp, n);
}

int resp_format_double(char *dst, double d)
{
    /* spelled out: libc's "%g" writes "-nan" for a NaN with the sign bit set */
    if (isnan(d)) {
        memcpy(dst, "nan", 4);
        return 3;
    }
    if (isinf(d)) {
        if (d > 0) {
            memcpy(dst, "inf", 4);
            return 3;
        }
        memcpy(dst, "-inf", 5);
        return 4;
    }
    return snprintf(dst, 40, "%.17g", d);
}

void reply_bulk_double(reply_t *r, double d)
{
    char tmp[40];
    int n = resp_format_double(tmp, d);
    reply_bulk(r, tmp, (size_t)n);
}

void reply_double(reply_t *r, double d)
{
    char tmp[40];
    int n;

    if (r->proto < 3) {
        reply_bulk_double(r, d);
        return;
    }
    n = resp_format_double(tmp, d);
    if (!room(r, (size_t)n + 3))
        return;
    buf_reserve(r->out, (size_t)n + 3);
    buf_putc(r->out, ',');
    buf_append(r->out, tmp, (size_t)n);
    buf_append(r->out, "\r\n", 2);
}

void reply_double_str(reply_t *r, const char *s, size_t n)
{
    if (r->proto < 3) {
        reply_bulk(r, s, n);
        return;
    }
    if (!room(r, n + 3))
        return;
    buf_reserve(r->out, n + 3);
    buf_putc(r->out, ',');
    buf_append(r->out, s, n);
    buf_append(r->out, "\r\n", 2);
}

void reply_bool(reply_t *r, int v)
{
    if (r->proto >= 3)
        put_lit(r, v ? "#t\r\n" : "#f\r\n", 4);
    else
        put_lit(r, v ? ":1\r\n" : ":0\r\n", 4);
}

void reply_null(reply_t *r)
{
    if (r->proto >= 3)
        put_lit(r, "_\r\n", 3);
    else
        put_lit(r, "$-1\r\n", 5);
}

void reply_null_array(reply_t *r)
{
    if (r->proto >= 3)
        put_lit(r, "_\r\n", 3);
    else
        put_lit(r, "*-1\r\n", 5);
}

/* The header of an aggregate of n elements (pairs, for a map), degraded for RESP2. */
static size_t fmt_aggr(char *dst, int proto, char type, long n)
{
    if (proto >= 3)
        return fmt_hdr(dst, type, n);
    if (type == '%')
        return fmt_hdr(dst, '*', 2LL * n);
    return fmt_hdr(dst, '*', n);
}

void reply_array(reply_t *r, long n)
{
    put_hdr(r, '*', n);
}

void reply_map(reply_t *r, long n)
{
    if (!room(r, HDR_MAX))
        return;
    buf_reserve(r->out, HDR_MAX);
    r->out->len += fmt_aggr(r->out->data + r->out->len, r->proto, '%', n);
}

void reply_set(reply_t *r, long n)
{
    if (!room(r, HDR_MAX))
        return;
    buf_reserve(r->out, HDR_MAX);
    r->out->len += fmt_aggr(r->out->data + r->out->len, r->proto, '~', n);
}

void reply_push(reply_t *r, long n)
{
    if (!room(r, HDR_MAX))
        return;
    buf_reserve(r->out, HDR_MAX);
    r->out->len += fmt_aggr(r->out->data + r->out->len, r->proto, '>', n);
}

void reply_verbatim(reply_t *r, const char *p, size_t n, const char *fmt3)
{
    buf_t *b = r->out;

    if (r->proto < 3) {
        reply_bulk(r, p, n);
        return;
    }
    /* the format is exactly three characters ("txt", "mkd") */
    if (!fmt3 || strlen(fmt3) != 3)
        fmt3 = "txt";
    if (!room(r, HDR_MAX + 4 + n + 2))
        return;
    buf_reserve(b, HDR_MAX + 4 + n + 2);
    b->len += fmt_hdr(b->data + b->len, '=', (long long)n + 4);
    memcpy(b->data + b->len, fmt3, 3);
    b->data[b->len + 3] = ':';
    b->len += 4;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len++] = '\r';
    b->data[b->len++] = '\n';
}

size_t reply_defer(reply_t *r)
{
    return r->out->len;
}

void reply_defer_set(reply_t *r, size_t mark, char type, long n)
{
    char tmp[HDR_MAX];
    size_t len = fmt_aggr(tmp, r->proto, type, n);
    if (r->overflow || !room(r, len))
        return; /* the whole reply is being replaced */
    buf_insert(r->out, mark, tmp, len);
}
