/* The value parsers every configuration file shares (config.c's table,
 * config_obl.c's client-output-buffer-limit): below both, so neither calls
 * the other back. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "buf.h"

#include "config_internal.h"

int config_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Digits, then b, k, kb, m, mb, g or gb (k = 1000, kb = 1024, ...),
 * case-insensitive. Unlike Redis, a value that overflows is refused instead
 * of wrapping. */
int config_parse_mem(const char *p, size_t len, long long *out)
{
    size_t i = 0;
    while (i < len && p[i] >= '0' && p[i] <= '9')
        i++;
    if (i == 0)
        return 0;
    const char *u = p + i;
    size_t ulen = len - i;
    long long mul;
    if (ulen == 0 || config_name_eq(u, ulen, "b"))
        mul = 1;
    else if (config_name_eq(u, ulen, "k"))
        mul = 1000;
    else if (config_name_eq(u, ulen, "kb"))
        mul = 1024;
    else if (config_name_eq(u, ulen, "m"))
        mul = 1000LL * 1000;
    else if (config_name_eq(u, ulen, "mb"))
        mul = 1024LL * 1024;
    else if (config_name_eq(u, ulen, "g"))
        mul = 1000LL * 1000 * 1000;
    else if (config_name_eq(u, ulen, "gb"))
        mul = 1024LL * 1024 * 1024;
    else
        return 0;
    long long v = 0;
    for (size_t j = 0; j < i; j++) {
        int d = p[j] - '0';
        if (v > (LLONG_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    if (v > LLONG_MAX / mul)
        return 0;
    *out = v * mul;
    return 1;
}

/* latency-tracking-info-percentiles: space-separated numbers in [0, 100]
 * (empty: none), normalised as Redis shows them ("50 99 99.9"). */
int config_parse_pcts(const char *v, size_t len, cval_t *out, char *err, size_t errlen)
{
    char *norm = xmalloc(len * 2 + 32), *w = norm;
    size_t i = 0;
    *w = '\0';
    while (i < len) {
        while (i < len && v[i] == ' ')
            i++;
        size_t s = i;
        while (i < len && v[i] != ' ')
            i++;
        if (i == s)
            break;
        char tok[64], *end;
        if (i - s >= sizeof tok)
            goto bad;
        memcpy(tok, v + s, i - s);
        tok[i - s] = '\0';
        double d = strtod(tok, &end);
        if (*end || d != d)
            goto bad;
        if (d < 0.0 || d > 100.0) {
            free(norm);
            return config_fail(err, errlen, "latency-tracking-info-percentiles parameters "
                                            "should sit between [0.0,100.0]");
        }
        char num[64];
        int n = snprintf(num, sizeof num, "%f", d);
        while (n > 0 && num[n - 1] == '0')
            num[--n] = '\0';
        if (n > 0 && num[n - 1] == '.')
            num[--n] = '\0';
        w += sprintf(w, "%s%s", w == norm ? "" : " ", num);
    }
    out->s = norm;
    return 0;
bad:
    free(norm);
    return config_fail(err, errlen, "Invalid latency-tracking-info-percentiles parameters");
}
