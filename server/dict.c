#include "dict.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

#define DICT_MIN_SIZE 4
#define DICT_MAX_SIZE ((uint64_t)1 << 32) /* entries keep 32 bits of the hash */

struct dict {
    dict_entry_t **tb[2]; /* tb[1] only while rehashing */
    uint64_t size[2];     /* 0 or a power of two */
    uint64_t used[2];
    int64_t rehashidx;    /* next bucket of tb[0] to move, -1 when not rehashing */
    dict_entry_t **vol;   /* entries with a TTL, each knowing its index */
    size_t nvol, volcap;
    uint64_t rng;
};

size_t dict_entry_mem(size_t klen)
{
    return mem_alloc_size(offsetof(dict_entry_t, key) + klen);
}

size_t dict_mem(const dict_t *d)
{
    size_t m = mem_alloc_size(sizeof *d);
    for (int t = 0; t < 2; t++)
        if (d->size[t])
            m += mem_alloc_size(d->size[t] * sizeof *d->tb[t]);
    if (d->volcap)
        m += mem_alloc_size(d->volcap * sizeof *d->vol);
    return m;
}

dict_t *dict_create(uint64_t seed)
{
    dict_t *d = xcalloc(1, sizeof *d);
    d->rehashidx = -1;
    d->rng = seed ? seed : 0x9e3779b97f4a7c15ULL;
    return d;
}

void dict_destroy(dict_t *d, void (*fn)(void *arg, dict_entry_t *e), void *arg)
{
    if (!d)
        return;
    for (int t = 0; t < 2; t++) {
        for (uint64_t i = 0; i < d->size[t]; i++) {
            dict_entry_t *e = d->tb[t][i];
            while (e) {
                dict_entry_t *next = e->next;
                if (fn)
                    fn(arg, e);
                free(e);
                e = next;
            }
        }
        free(d->tb[t]);
    }
    free(d->vol);
    free(d);
}

uint64_t dict_rand(dict_t *d)
{
    uint64_t x = d->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    d->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

size_t dict_size(const dict_t *d)
{
    return d->used[0] + d->used[1];
}

int dict_is_rehashing(const dict_t *d)
{
    return d->rehashidx >= 0;
}

uint64_t dict_buckets(const dict_t *d)
{
    return d->size[0] + d->size[1];
}

/* ---- resizing ------------------------------------------------------------ */

static uint64_t next_pow2(uint64_t n)
{
    uint64_t s = DICT_MIN_SIZE;
    while (s < n && s < DICT_MAX_SIZE)
        s <<= 1;
    return s;
}

static void start_resize(dict_t *d, uint64_t size)
{
    if (size == d->size[0])
        return;
    if (d->size[0] == 0) {
        d->tb[0] = xcalloc(size, sizeof *d->tb[0]);
        d->size[0] = size;
        return;
    }
    d->tb[1] = xcalloc(size, sizeof *d->tb[1]);
    d->size[1] = size;
    d->used[1] = 0;
    d->rehashidx = 0;
}

static int (*_Atomic expand_allowed)(size_t more_bytes);

void dict_set_expand_hook(int (*allowed)(size_t more_bytes))
{
    atomic_store_explicit(&expand_allowed, allowed, memory_order_relaxed);
}

/* Grow at load factor 1; past it only with the hook's leave (maxmemory), or
 * at any rate once chains average DICT_FORCE_LOAD (as Redis's 1.618). */
#define DICT_FORCE_LOAD_NUM 13
#define DICT_FORCE_LOAD_DEN 8
static void expand_if_needed(dict_t *d)
{
    if (d->rehashidx >= 0)
        return;
    if (d->size[0] == 0) {
        start_resize(d, DICT_MIN_SIZE);
    } else if (d->used[0] >= d->size[0] && d->size[0] < DICT_MAX_SIZE) {
        int (*allowed)(size_t) = atomic_load_explicit(&expand_allowed, memory_order_relaxed);
        if (allowed && d->used[0] * DICT_FORCE_LOAD_DEN < d->size[0] * DICT_FORCE_LOAD_NUM &&
            !allowed(mem_alloc_size(d->size[0] * 2 * sizeof *d->tb[0])))
            return;
        start_resize(d, d->size[0] * 2); /* load factor 1 reached */
    }
}

/* Shrink to a load of 1/4..1/2 once under 1/8, so a few inserts after a shrink
 * don't grow the table straight back. */
static void shrink_if_needed(dict_t *d)
{
    if (d->rehashidx >= 0 || d->size[0] <= DICT_MIN_SIZE || d->used[0] * 8 >= d->size[0])
        return;
    start_resize(d, next_pow2(d->used[0] * 2));
}

int dict_rehash(dict_t *d, int n)
{
    if (d->rehashidx < 0)
        return 0;
    int empty_visits = n * 10;
    uint64_t mask1 = d->size[1] - 1;
    while (n-- > 0 && d->used[0]) {
        /* used[0] > 0 means a non-empty bucket lies at or after rehashidx */
        while (!d->tb[0][d->rehashidx]) {
            d->rehashidx++;
            if (--empty_visits == 0)
                return 1;
        }
        dict_entry_t *e = d->tb[0][d->rehashidx];
        while (e) {
            dict_entry_t *next = e->next;
            uint64_t j = e->hash & mask1;
            e->next = d->tb[1][j];
            d->tb[1][j] = e;
            d->used[0]--;
            d->used[1]++;
            e = next;
        }
        d->tb[0][d->rehashidx++] = NULL;
    }
    if (d->used[0])
        return 1;
    free(d->tb[0]);
    d->tb[0] = d->tb[1];
    d->size[0] = d->size[1];
    d->used[0] = d->used[1];
    d->tb[1] = NULL;
    d->size[1] = d->used[1] = 0;
    d->rehashidx = -1;
    return 0;
}

int dict_rehash_us(dict_t *d, uint64_t budget_us)
{
    if (d->rehashidx < 0)
        shrink_if_needed(d);
    if (d->rehashidx < 0)
        return 0;
    uint64_t start = mono_us();
    while (dict_rehash(d, 100)) {
        if (mono_us() - start >= budget_us)
            return 1;
    }
    return 0;
}

/* ---- lookup, add, unlink ------------------------------------------------- */

dict_entry_t *dict_find_h(dict_t *d, uint64_t h, const char *k, size_t n)
{
    if (dict_size(d) == 0)
        return NULL;
    if (d->rehashidx >= 0)
        dict_rehash(d, 1);
    uint32_t h32 = (uint32_t)h;
    for (int t = 0; t < 2; t++) {
        if (d->size[t]) {
            for (dict_entry_t *e = d->tb[t][h32 & (d->size[t] - 1)]; e; e = e->next)
                if (e->hash == h32 && e->klen == n && memcmp(e->key, k, n) == 0)
                    return e;
        }
        if (d->rehashidx < 0)
            break;
    }
    return NULL;
}

void dict_prefetch(const dict_t *d, uint64_t h, int stage)
{
    int t = d->rehashidx >= 0 ? 1 : 0; /* new keys land in tb[1] while rehashing */
    if (!d->size[t])
        return;
    dict_entry_t *const *slot = &d->tb[t][(uint32_t)h & (d->size[t] - 1)];
    if (stage == 0) {
        __builtin_prefetch(slot);
        return;
    }
    const dict_entry_t *e = *slot;
    if (e)
        __builtin_prefetch(e);
}

dict_entry_t *dict_find(dict_t *d, const char *k, size_t n)
{
    return dict_find_h(d, dict_hash(k, n), k, n);
}

dict_entry_t *dict_add_h(dict_t *d, uint64_t h, const char *k, size_t n)
{
    if (n > UINT32_MAX)
        log_fatal("key of %zu bytes is too long", n);
    if (d->rehashidx >= 0)
        dict_rehash(d, 1);
    expand_if_needed(d);
    dict_entry_t *e = xmalloc(offsetof(dict_entry_t, key) + n);
    memset(e, 0, offsetof(dict_entry_t, key));
    e->expire = DICT_NO_EXPIRE;
    e->val.type = OBJ_STRING;
    e->val.enc = ENC_INT;
    e->hash = (uint32_t)h;
    e->vidx = DICT_NOT_VOLATILE;
    e->klen = (uint32_t)n;
    if (n)
        memcpy(e->key, k, n);
    int t = d->rehashidx >= 0 ? 1 : 0;
    uint64_t i = e->hash & (d->size[t] - 1);
    e->next = d->tb[t][i];
    d->tb[t][i] = e;
    d->used[t]++;
    return e;
}

int dict_has_entry(const dict_t *d, const dict_entry_t *e, uint32_t hash)
{
    for (int t = 0; t < 2; t++) {
        if (!d->size[t])
            continue;
        for (const dict_entry_t *x = d->tb[t][hash & (d->size[t] - 1)]; x; x = x->next)
            if (x == e)
                return 1;
    }
    return 0;
}

static void vol_remove(dict_t *d, dict_entry_t *e)
{
    uint32_t i = e->vidx;
    dict_entry_t *last = d->vol[--d->nvol];
    d->vol[i] = last;
    last->vidx = i;
    e->vidx = DICT_NOT_VOLATILE;
    if (d->volcap > 64 && d->nvol < d->volcap / 4) {
        d->volcap /= 2;
        d->vol = xrealloc(d->vol, d->volcap * sizeof *d->vol);
    }
}

void dict_unlink(dict_t *d, dict_entry_t *e)
{
    if (d->rehashidx >= 0)
        dict_rehash(d, 1);
    int found = 0;
    for (int t = 0; t < 2 && !found; t++) {
        if (!d->size[t])
            continue;
        dict_entry_t **pp = &d->tb[t][e->hash & (d->size[t] - 1)];
        while (*pp && *pp != e)
            pp = &(*pp)->next;
        if (*pp) {
            *pp = e->next;
            d->used[t]--;
            found = 1;
        }
    }
    if (!found)
        log_fatal("dict_unlink: entry not in its dict");
    e->next = NULL;
    if (e->vidx != DICT_NOT_VOLATILE)
        vol_remove(d, e);
    shrink_if_needed(d);
}

/* ---- keys with a TTL ----------------------------------------------------- */

void dict_set_expire(dict_t *d, dict_entry_t *e, int64_t when)
{
    if (when < 0) {
        if (e->vidx != DICT_NOT_VOLATILE)
            vol_remove(d, e);
        e->expire = DICT_NO_EXPIRE;
        return;
    }
    if (e->vidx == DICT_NOT_VOLATILE) {
        if (d->nvol == d->volcap) {
            d->volcap = d->volcap ? d->volcap * 2 : 16;
            d->vol = xrealloc(d->vol, d->volcap * sizeof *d->vol);
        }
        e->vidx = (uint32_t)d->nvol;
        d->vol[d->nvol++] = e;
    }
    e->expire = when;
}

size_t dict_volatile_count(const dict_t *d)
{
    return d->nvol;
}

dict_entry_t *dict_volatile_at(const dict_t *d, size_t i)
{
    return i < d->nvol ? d->vol[i] : NULL;
}

dict_entry_t *dict_volatile_random(dict_t *d)
{
    return d->nvol ? d->vol[dict_rand(d) % d->nvol] : NULL;
}

/* ---- scan and sampling --------------------------------------------------- */

static void scan_bucket(dict_entry_t *e, dict_scan_fn *fn, void *arg)
{
    while (e) {
        dict_entry_t *next = e->next;
        fn(arg, e);
        e = next;
    }
}

/* Buckets are visited in reverse-binary order so that, when the table doubles
 * or halves between calls, the buckets already visited map to buckets whose
 * reversed index is below the cursor: nothing present throughout is missed.
 * While rehashing, a bucket of the smaller table is visited together with
 * every bucket of the larger table it expands to. */
uint64_t dict_scan(dict_t *d, uint64_t v, dict_scan_fn *fn, void *arg)
{
    if (dict_size(d) == 0)
        return 0;
    if (d->rehashidx < 0) {
        uint64_t m0 = d->size[0] - 1;
        scan_bucket(d->tb[0][v & m0], fn, arg);
        return scan_cursor_next(v, m0);
    }
    int small = d->size[0] <= d->size[1] ? 0 : 1, large = 1 - small;
    uint64_t m0 = d->size[small] - 1, m1 = d->size[large] - 1;
    scan_bucket(d->tb[small][v & m0], fn, arg);
    do {
        scan_bucket(d->tb[large][v & m1], fn, arg);
        v = scan_cursor_next(v, m1);
    } while (v & (m0 ^ m1));
    return v;
}

dict_entry_t *dict_random(dict_t *d)
{
    if (dict_size(d) == 0)
        return NULL;
    if (d->rehashidx >= 0)
        dict_rehash(d, 1);
    dict_entry_t *e;
    if (d->rehashidx >= 0) {
        /* buckets of tb[0] below rehashidx are empty: skip them */
        uint64_t span = d->size[0] + d->size[1] - (uint64_t)d->rehashidx;
        do {
            uint64_t i = (uint64_t)d->rehashidx + dict_rand(d) % span;
            e = i >= d->size[0] ? d->tb[1][i - d->size[0]] : d->tb[0][i];
        } while (!e);
    } else {
        uint64_t m = d->size[0] - 1;
        do
            e = d->tb[0][dict_rand(d) & m];
        while (!e);
    }
    size_t len = 0;
    for (dict_entry_t *x = e; x; x = x->next)
        len++;
    for (size_t k = dict_rand(d) % len; k; k--)
        e = e->next;
    return e;
}

size_t dict_sample(dict_t *d, dict_entry_t **out, size_t n)
{
    size_t size = dict_size(d);
    if (n > size)
        n = size;
    if (n == 0)
        return 0;
    for (size_t k = 0; k < n && d->rehashidx >= 0; k++)
        dict_rehash(d, 1);
    int tables = d->rehashidx >= 0 ? 2 : 1;
    uint64_t maxmask = d->size[0] - 1;
    if (tables == 2 && d->size[1] - 1 > maxmask)
        maxmask = d->size[1] - 1;
    uint64_t i = dict_rand(d) & maxmask;
    size_t stored = 0, empty = 0, steps = n * 10;
    while (stored < n && steps--) {
        for (int t = 0; t < tables && stored < n; t++) {
            if (t == 0 && tables == 2 && i < (uint64_t)d->rehashidx)
                continue; /* already moved to tb[1] */
            if (i >= d->size[t])
                continue;
            dict_entry_t *e = d->tb[t][i];
            if (!e) {
                /* a long empty run: jump somewhere else */
                if (++empty >= 5 && empty > n) {
                    i = dict_rand(d) & maxmask;
                    empty = 0;
                }
                continue;
            }
            empty = 0;
            for (; e && stored < n; e = e->next)
                out[stored++] = e;
        }
        i = (i + 1) & maxmask;
    }
    return stored;
}
