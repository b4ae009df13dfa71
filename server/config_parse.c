/* The value parsers every configuration file shares (config.c's table,
 * config_obl.c's client-output-buffer-limit): below both, so neither calls
 * the other back. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>

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
