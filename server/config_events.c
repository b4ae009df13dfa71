/* notify-keyspace-events: Redis 7.0's class letters (config.h, enum
 * notify_class). A value is parsed into the canonical string CONFIG GET shows
 * (the letters of A's classes folded into "A" when all are there, then K, E,
 * m), and the classes are kept in an atomic beside the string, so every
 * write reads them with one relaxed load (notify.h) instead of taking the
 * config's string lock. */
#include "config_internal.h"

_Atomic int config_notify_flags;

/* Letter and class, in the canonical order of the letters A stands for. */
static const struct {
    char c;
    int bit;
} letters[] = {
    {'g', NOTIFY_GENERIC}, {'$', NOTIFY_STRING}, {'l', NOTIFY_LIST},    {'s', NOTIFY_SET},
    {'h', NOTIFY_HASH},    {'z', NOTIFY_ZSET},   {'x', NOTIFY_EXPIRED}, {'e', NOTIFY_EVICTED},
    {'t', NOTIFY_STREAM},  {'d', NOTIFY_MODULE}, {'n', NOTIFY_NEW},     {'K', NOTIFY_KEYSPACE},
    {'E', NOTIFY_KEYEVENT}, {'m', NOTIFY_KEY_MISS},
};
#define NLETTERS (sizeof letters / sizeof letters[0])

/* The classes of a value, or -1 on a letter that names none. */
static int events_to_flags(const char *v, size_t len)
{
    int flags = 0;
    for (size_t i = 0; i < len; i++) {
        if (v[i] == 'A') {
            flags |= NOTIFY_ALL;
            continue;
        }
        size_t k = 0;
        while (k < NLETTERS && letters[k].c != v[i])
            k++;
        if (k == NLETTERS)
            return -1;
        flags |= letters[k].bit;
    }
    return flags;
}

int config_parse_events(const char *v, size_t len, cval_t *out, char *err, size_t errlen)
{
    int flags = events_to_flags(v, len);
    if (flags < 0)
        return config_fail(err, errlen,
                           "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
    char s[NLETTERS + 2];
    size_t n = 0;
    int all = (flags & NOTIFY_ALL) == NOTIFY_ALL;
    if (all)
        s[n++] = 'A';
    for (size_t k = 0; k < NLETTERS; k++) {
        /* n is outside A but printed among its letters, as Redis 7.0 does */
        int under_a = (letters[k].bit & (NOTIFY_ALL | NOTIFY_NEW)) != 0;
        if ((flags & letters[k].bit) && !(all && under_a))
            s[n++] = letters[k].c;
    }
    s[n] = '\0';
    out->s = xstrndup(s, n);
    out->n = flags; /* "An" shows as "A" but keeps n, as Redis 7.0 */
    return 0;
}

void config_events_store(int flags)
{
    atomic_store_explicit(&config_notify_flags, flags, memory_order_relaxed);
}
