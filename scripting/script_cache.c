/* The script cache shared by every worker: SHA1 (40 lower-case hex digits)
 * -> body, under a rwlock, with a generation bumped by every flush; and the
 * parser of a body's "#!lua" first line. Any thread. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "script.h"
#include "script_internal.h"
#include "forksafe.h"

typedef struct centry {
    struct centry *next;
    char sha[41];
    size_t len;
    char body[];
} centry_t;

static pthread_rwlock_t cache_lock = PTHREAD_RWLOCK_INITIALIZER;
FORKSAFE_RWLOCK(cache_lock) /* a SCRIPT DEBUG YES child may take it */
static centry_t **buckets;
static size_t nbuckets, ncached, cached_bytes;
static _Atomic uint64_t cache_gen = 1;
static _Atomic uint64_t cached_count, cached_mem; /* for INFO without the lock */

static size_t bucket_of(const char *sha, size_t n)
{
    size_t h = 0;
    for (int i = 0; i < 12; i++)
        h = h * 16 + (size_t)(sha[i] <= '9' ? sha[i] - '0' : sha[i] - 'a' + 10);
    return h & (n - 1);
}

/* Caller holds the lock. */
static centry_t *cache_find_locked(const char *sha)
{
    if (!buckets)
        return NULL;
    for (centry_t *e = buckets[bucket_of(sha, nbuckets)]; e; e = e->next)
        if (memcmp(e->sha, sha, 40) == 0)
            return e;
    return NULL;
}

void cache_add(const char *sha, const char *body, size_t len)
{
    pthread_rwlock_wrlock(&cache_lock);
    if (!cache_find_locked(sha)) {
        if (ncached >= nbuckets) {
            size_t nn = nbuckets ? nbuckets * 2 : 64;
            centry_t **nb = xcalloc(nn, sizeof *nb);
            for (size_t i = 0; i < nbuckets; i++)
                for (centry_t *e = buckets[i], *next; e; e = next) {
                    next = e->next;
                    size_t b = bucket_of(e->sha, nn);
                    e->next = nb[b];
                    nb[b] = e;
                }
            free(buckets);
            buckets = nb;
            nbuckets = nn;
        }
        centry_t *e = xmalloc(sizeof *e + len + 1);
        memcpy(e->sha, sha, 41);
        e->len = len;
        memcpy(e->body, body, len);
        e->body[len] = '\0';
        size_t b = bucket_of(sha, nbuckets);
        e->next = buckets[b];
        buckets[b] = e;
        ncached++;
        cached_bytes += len;
        atomic_store_explicit(&cached_count, ncached, memory_order_relaxed);
        atomic_store_explicit(&cached_mem, cached_bytes, memory_order_relaxed);
    }
    pthread_rwlock_unlock(&cache_lock);
}

int cache_get(const char *sha, buf_t *out)
{
    pthread_rwlock_rdlock(&cache_lock);
    centry_t *e = cache_find_locked(sha);
    if (e) {
        out->len = 0;
        buf_append(out, e->body, e->len);
    }
    pthread_rwlock_unlock(&cache_lock);
    return e != NULL;
}

void cache_clear(void)
{
    pthread_rwlock_wrlock(&cache_lock);
    for (size_t i = 0; i < nbuckets; i++)
        for (centry_t *e = buckets[i], *next; e; e = next) {
            next = e->next;
            free(e);
        }
    free(buckets);
    buckets = NULL;
    nbuckets = ncached = cached_bytes = 0;
    atomic_store_explicit(&cached_count, 0, memory_order_relaxed);
    atomic_store_explicit(&cached_mem, 0, memory_order_relaxed);
    atomic_fetch_add(&cache_gen, 1);
    pthread_rwlock_unlock(&cache_lock);
}

int cache_norm_sha(sv_t s, char out[41])
{
    if (s.len != 40)
        return -1;
    for (int i = 0; i < 40; i++) {
        char c = s.p[i];
        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return -1;
        out[i] = c;
    }
    out[40] = '\0';
    return 0;
}

int script_exists(sv_t sha)
{
    char s[41];
    if (cache_norm_sha(sha, s) != 0)
        return 0;
    pthread_rwlock_rdlock(&cache_lock);
    int found = cache_find_locked(s) != NULL;
    pthread_rwlock_unlock(&cache_lock);
    return found;
}

void script_flush(void) { cache_clear(); }


uint64_t cache_generation(void) { return atomic_load(&cache_gen); }
uint64_t cache_count(void) { return atomic_load_explicit(&cached_count, memory_order_relaxed); }
uint64_t cache_bytes(void) { return atomic_load_explicit(&cached_mem, memory_order_relaxed); }

/* Redis 7.0's "#!lua [flags=f1,f2]" first line: its flags, and its length
 * (the rest of the body is the chunk). 0, or -1 with err set. */
int cache_parse_shebang(const char *body, size_t len, int *flags, size_t *skip, char *err,
                        size_t errlen)
{
    *flags = 0;
    *skip = 0;
    if (len < 2 || body[0] != '#' || body[1] != '!')
        return 0;
    const char *nl = memchr(body, '\n', len);
    if (!nl) {
        snprintf(err, errlen, "ERR Invalid script shebang");
        return -1;
    }
    *skip = (size_t)(nl - body);
    *flags = SF_SHEBANG;
    const char *p = body, *end = nl;
    int first = 1;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
            p++;
        const char *w = p;
        while (p < end && *p != ' ' && *p != '\t' && *p != '\r')
            p++;
        size_t wl = (size_t)(p - w);
        if (!wl)
            break;
        if (first) {
            if (wl != 5 || memcmp(w, "#!lua", 5) != 0) {
                snprintf(err, errlen, "ERR Unexpected engine in script shebang: %.*s", (int)wl, w);
                return -1;
            }
            first = 0;
            continue;
        }
        if (wl < 6 || memcmp(w, "flags=", 6) != 0) {
            snprintf(err, errlen, "ERR Unknown lua shebang option: %.*s", (int)wl, w);
            return -1;
        }
        static const struct {
            const char *name;
            int flag;
        } known[] = {{"no-writes", SF_NO_WRITES},       {"allow-oom", SF_ALLOW_OOM},
                     {"allow-stale", SF_ALLOW_STALE},   {"no-cluster", SF_NO_CLUSTER},
                     {"allow-cross-slot-keys", SF_ALLOW_CROSS_SLOT}};
        for (const char *f = w + 6, *fe; f < p; f = fe + 1) {
            fe = memchr(f, ',', (size_t)(p - f));
            if (!fe)
                fe = p;
            size_t fl = (size_t)(fe - f);
            size_t k = 0;
            for (; k < sizeof known / sizeof *known; k++)
                if (strlen(known[k].name) == fl && memcmp(known[k].name, f, fl) == 0)
                    break;
            if (k == sizeof known / sizeof *known) {
                if (fl == 0)
                    continue;
                snprintf(err, errlen, "ERR Unexpected flag in script shebang: %.*s", (int)fl, f);
                return -1;
            }
            *flags |= known[k].flag;
        }
    }
    return 0;
}

/* EVAL's body, or EVALSHA's SHA1 (is_sha) of a cached script: does its
 * shebang declare no-writes? Any thread (CLIENT PAUSE WRITE, client_pause.c).
 * An unknown SHA1 or a bad shebang: 0 (the call is then an error, and a
 * write pause holds it as Redis 7.0 holds a script it cannot look at). */
int script_declares_no_writes(sv_t arg, int is_sha)
{
    buf_t body;
    buf_init(&body);
    const char *p = arg.p;
    size_t n = arg.len;
    if (is_sha) {
        char sha[41];
        if (cache_norm_sha(arg, sha) != 0 || !cache_get(sha, &body)) {
            buf_free(&body);
            return 0;
        }
        p = body.data;
        n = body.len;
    }
    int flags = 0;
    size_t skip;
    char err[128];
    int rc = cache_parse_shebang(p, n, &flags, &skip, err, sizeof err);
    buf_free(&body);
    return rc == 0 && (flags & SF_NO_WRITES);
}
