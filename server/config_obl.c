/* client-output-buffer-limit: Redis's syntax, "<class> <hard> <soft> <soft-seconds>"
 * repeated, for the classes percore has (normal, pubsub). A value names only
 * the classes it changes; the stored string always lists both, normalised to
 * bytes, as CONFIG GET shows it. The numbers are kept in atomics beside the
 * string, so connections read them without the config's string lock. */
#include <stdio.h>
#include <stdlib.h>

#include "config_internal.h"

static const char *const classes[OBL_NCLASSES] = {"normal", "pubsub"};

static _Atomic long long limits[OBL_NCLASSES][3]; /* hard, soft, soft-seconds */

void config_obl_get(int cls, obl_t *out)
{
    out->hard = (uint64_t)atomic_load_explicit(&limits[cls][0], memory_order_relaxed);
    out->soft = (uint64_t)atomic_load_explicit(&limits[cls][1], memory_order_relaxed);
    out->soft_seconds = (uint64_t)atomic_load_explicit(&limits[cls][2], memory_order_relaxed);
}

/* The next space-separated word of v[*i..len). */
static int next_word(const char *v, size_t len, size_t *i, const char **w, size_t *wn)
{
    while (*i < len && v[*i] == ' ')
        (*i)++;
    if (*i == len)
        return 0;
    *w = v + *i;
    while (*i < len && v[*i] != ' ')
        (*i)++;
    *wn = (size_t)(v + *i - *w);
    return 1;
}

/* Read a normalised value (config_parse_obl's: every class, in order) into
 * lim; returns the classes read. */
static int read_limits(const char *s, long long lim[OBL_NCLASSES][3])
{
    char cls[16];
    long long h, so, se;
    int c, n;
    for (c = 0; c < OBL_NCLASSES && sscanf(s, "%15s %lld %lld %lld%n", cls, &h, &so, &se, &n) == 4;
         c++, s += n) {
        lim[c][0] = h;
        lim[c][1] = so;
        lim[c][2] = se;
    }
    return c;
}

int config_parse_obl(const char *v, size_t len, const char *base, cval_t *out, char *err,
                     size_t errlen)
{
    long long next[OBL_NCLASSES][3];
    for (int c = 0; c < OBL_NCLASSES; c++)
        for (int k = 0; k < 3; k++)
            next[c][k] = atomic_load_explicit(&limits[c][k], memory_order_relaxed);
    if (base)
        read_limits(base, next);
    const char *w[4];
    size_t wn[4], i = 0;
    int groups = 0;
    for (;;) {
        int got = 0;
        while (got < 4 && next_word(v, len, &i, &w[got], &wn[got]))
            got++;
        if (got == 0)
            break;
        if (got < 4)
            return config_fail(err, errlen,
                               "Wrong number of arguments in buffer limit configuration.");
        int cls = -1;
        for (int c = 0; c < OBL_NCLASSES; c++)
            if (config_name_eq(w[0], wn[0], classes[c]))
                cls = c;
        if (cls < 0)
            return config_fail(err, errlen,
                               "Invalid client class specified in buffer limit configuration.");
        long long hard, soft, secs;
        if (!config_parse_mem(w[1], wn[1], &hard) || !config_parse_mem(w[2], wn[2], &soft) ||
            !config_parse_mem(w[3], wn[3], &secs) || memchr(w[3], 'b', wn[3]) ||
            memchr(w[3], 'B', wn[3]) || secs > INT_MAX)
            return config_fail(err, errlen, "Error in hard, soft or soft_seconds setting in "
                                            "buffer limit configuration.");
        next[cls][0] = hard;
        next[cls][1] = soft;
        next[cls][2] = secs;
        groups++;
    }
    if (!groups)
        return config_fail(err, errlen, "Wrong number of arguments in buffer limit configuration.");
    buf_t b;
    buf_init(&b);
    for (int c = 0; c < OBL_NCLASSES; c++)
        buf_printf(&b, "%s%s %lld %lld %lld", c ? " " : "", classes[c], next[c][0], next[c][1],
                   next[c][2]);
    out->s = xstrndup(b.data, b.len);
    buf_free(&b);
    return 0;
}

void config_obl_store(const char *s)
{
    long long lim[OBL_NCLASSES][3];
    for (int c = 0, n = read_limits(s, lim); c < n; c++)
        for (int k = 0; k < 3; k++)
            atomic_store_explicit(&limits[c][k], lim[c][k], memory_order_relaxed);
}
