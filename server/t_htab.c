/* t_htab — the chained hash table of byte strings shared by hashes, sets and
 * sorted sets (declared in t_htab.h).
 *
 * The table is chained with power-of-two sizes and resizes incrementally, as
 * Redis's dict: a grow or shrink allocates the new bucket array and each
 * later write moves a few buckets, so no single command rehashes a big value.
 * Keys are hashed with util's seeded hash_bytes, as the store's keys are, so
 * clients cannot flood a bucket. Callers hold the partition of the value's
 * key. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "t_common.h"
#include "t_htab.h"
#include "util.h"

#define HTAB_MIN_BUCKETS 4
/* Buckets moved per write while a resize is in progress: a grow is done
 * long before the table fills again, and no single command pays for
 * rehashing a big value at once (the tail latency this server is about). */
#define HTAB_STEP 2

static inline uint64_t hash_of(const char *k, size_t n)
{
    return hash_bytes(k, n);
}

static inline size_t size_of(const htab_t *t, int i)
{
    return t->b[i] ? t->mask[i] + 1 : 0;
}

static int key_eq(const hnode_t *e, const char *k, size_t n)
{
    return e->klen == n && (n == 0 || memcmp(e->key, k, n) == 0);
}

/* The link that points at the entry with this key (in either table while
 * resizing), or NULL. */
static hnode_t **find_link(const htab_t *t, uint64_t h, const char *k, size_t n)
{
    for (int i = 0; i < 2; i++) {
        if (!t->b[i])
            continue;
        size_t j = (size_t)h & t->mask[i];
        if (i == 0 && t->b[1] && j < t->rehashidx)
            continue; /* already moved to the new table */
        for (hnode_t **pp = &t->b[i][j]; *pp; pp = &(*pp)->next)
            if (key_eq(*pp, k, n))
                return pp;
    }
    return NULL;
}

hnode_t *htab_find(const htab_t *t, const char *k, size_t n)
{
    hnode_t **pp = find_link(t, hash_of(k, n), k, n);
    return pp ? *pp : NULL;
}

static void start_resize(htab_t *t, size_t buckets)
{
    int i = t->b[0] ? 1 : 0;
    t->b[i] = xcalloc(buckets, sizeof(hnode_t *));
    t->mask[i] = buckets - 1;
    t->rehashidx = 0;
}

/* Move up to `steps` buckets of the old table to the new one (visiting at
 * most 10 empty buckets per step), and end the resize when it is empty. */
static void rehash_step(htab_t *t, int steps)
{
    int empty_left = steps * 10;

    while (steps > 0 && t->b[1] && t->rehashidx <= t->mask[0]) {
        hnode_t *e = t->b[0][t->rehashidx];
        if (!e) {
            t->rehashidx++;
            if (--empty_left == 0)
                break;
            continue;
        }
        while (e) {
            hnode_t *next = e->next;
            size_t j = (size_t)hash_of(e->key, e->klen) & t->mask[1];
            e->next = t->b[1][j];
            t->b[1][j] = e;
            e = next;
        }
        t->b[0][t->rehashidx++] = NULL;
        steps--;
    }
    if (t->b[1] && t->rehashidx > t->mask[0]) {
        free(t->b[0]);
        t->b[0] = t->b[1];
        t->mask[0] = t->mask[1];
        t->b[1] = NULL;
        t->mask[1] = 0;
        t->rehashidx = 0;
    }
}

void htab_insert(htab_t *t, hnode_t *e)
{
    uint64_t h = hash_of(e->key, e->klen);

    if (!t->b[0])
        start_resize(t, HTAB_MIN_BUCKETS);
    else if (!t->b[1] && t->n >= size_of(t, 0))
        start_resize(t, size_of(t, 0) * 2);
    rehash_step(t, HTAB_STEP);
    int i = t->b[1] ? 1 : 0; /* new entries go to the new table */
    size_t j = (size_t)h & t->mask[i];
    e->next = t->b[i][j];
    t->b[i][j] = e;
    t->n++;
}

hnode_t *htab_unlink(htab_t *t, const char *k, size_t n)
{
    rehash_step(t, HTAB_STEP);
    hnode_t **pp = find_link(t, hash_of(k, n), k, n);
    if (!pp)
        return NULL;
    hnode_t *e = *pp;
    *pp = e->next;
    t->n--;
    /* Shrink at load 1/8 (to load 1/2) so a drained big value gives memory
     * back; the hysteresis against growth at load 1 keeps resizes rare. */
    if (t->n == 0) {
        htab_release(t);
    } else if (!t->b[1] && size_of(t, 0) > HTAB_MIN_BUCKETS && t->n < size_of(t, 0) / 8) {
        size_t buckets = HTAB_MIN_BUCKETS;
        while (buckets < t->n * 2)
            buckets *= 2;
        start_resize(t, buckets);
    }
    return e;
}

void htab_replace(htab_t *t, hnode_t *old, hnode_t *e)
{
    hnode_t **pp = find_link(t, hash_of(old->key, old->klen), old->key, old->klen);
    e->next = old->next;
    *pp = e;
}

size_t htab_mem(const htab_t *t)
{
    size_t m = 0;
    for (int i = 0; i < 2; i++)
        if (t->b[i])
            m += mem_alloc_size(size_of(t, i) * sizeof(hnode_t *));
    return m;
}

void htab_release(htab_t *t)
{
    free(t->b[0]);
    free(t->b[1]);
    memset(t, 0, sizeof *t);
}

/* Uniform over the entries (a random entry of a random non-empty bucket is
 * not: it favours short chains, and ZRANDMEMBER's chi-square test in Redis's
 * zset.tcl fails on that). A small table is walked to a random index. A big
 * one draws a bucket (empty ones too) and a position in [0, CHAIN_DRAW), and
 * draws again when the chain is shorter: each entry's chance is then
 * 1/(buckets * CHAIN_DRAW), but for entries past position CHAIN_DRAW of their
 * chain, which at load <= 1 with a seeded hash is about one in a million.
 * Expected draws: CHAIN_DRAW / load, 8 to 64 (the load stays in [1/8, 1]). */
#define FAIR_WALK 128
#define CHAIN_DRAW 8
hnode_t *htab_random(const htab_t *t)
{
    if (!t->n)
        return NULL;
    if (t->n <= FAIR_WALK) {
        size_t b = 0, r = (size_t)(t_rand() % t->n);
        hnode_t *e = htab_next(t, &b, NULL);
        while (r--)
            e = htab_next(t, &b, e);
        return e;
    }
    /* Buckets of the old table below rehashidx are empty: leave them out. */
    size_t from = t->b[1] ? t->rehashidx : 0;
    size_t s0 = size_of(t, 0) - from, total = s0 + size_of(t, 1);
    for (;;) {
        size_t r = (size_t)(t_rand() % total);
        hnode_t *e = r < s0 ? t->b[0][from + r] : t->b[1][r - s0];
        for (size_t j = (size_t)(t_rand() % CHAIN_DRAW); e && j; j--)
            e = e->next;
        if (e)
            return e;
    }
}

static void visit(hnode_t *e, htab_scan_fn *fn, void *arg)
{
    while (e) {
        hnode_t *next = e->next;
        fn(arg, e);
        e = next;
    }
}

uint64_t htab_scan(const htab_t *t, uint64_t cursor, htab_scan_fn *fn, void *arg)
{
    if (!t->b[0])
        return 0;
    if (!t->b[1]) {
        visit(t->b[0][cursor & t->mask[0]], fn, arg);
        return scan_cursor_next(cursor, t->mask[0]);
    }
    /* Resizing: the cursor's bucket in the smaller table, then every bucket
     * of the larger table that it expands to. */
    int small = t->mask[0] <= t->mask[1] ? 0 : 1, big = !small;
    uint64_t m0 = t->mask[small], m1 = t->mask[big];
    visit(t->b[small][cursor & m0], fn, arg);
    do {
        visit(t->b[big][cursor & m1], fn, arg);
        cursor = scan_cursor_next(cursor, m1);
    } while (cursor & (m0 ^ m1));
    return cursor;
}

hnode_t *htab_next(const htab_t *t, size_t *bucket, hnode_t *e)
{
    if (e && e->next)
        return e->next;
    size_t s0 = size_of(t, 0), all = s0 + size_of(t, 1);
    for (size_t i = e ? *bucket + 1 : *bucket; i < all; i++) {
        hnode_t *x = i < s0 ? t->b[0][i] : t->b[1][i - s0];
        if (x) {
            *bucket = i;
            return x;
        }
    }
    *bucket = all;
    return NULL;
}

size_t htab_random_distinct(const htab_t *t, hnode_t **out, size_t count)
{
    size_t n = t->n, got = 0;

    if (count >= n) {
        size_t b = 0;
        for (hnode_t *e = htab_next(t, &b, NULL); e; e = htab_next(t, &b, e))
            out[got++] = e;
        return got;
    }
    if (count * 3 > n) {
        /* A large share: one pass choosing each entry with probability
         * (still needed) / (still left) (Knuth's selection sampling). */
        size_t b = 0, left = n;
        for (hnode_t *e = htab_next(t, &b, NULL); e && got < count; e = htab_next(t, &b, e)) {
            if (t_rand() % left < count - got)
                out[got++] = e;
            left--;
        }
        return got;
    }
    /* A small share: random picks, duplicates skipped with a scratch
     * open-addressing set of pointers (load <= 1/2). */
    size_t cap = 4;
    while (cap < count * 2)
        cap *= 2;
    hnode_t **seen = xcalloc(cap, sizeof *seen);
    while (got < count) {
        hnode_t *e = htab_random(t);
        size_t i = (size_t)(((uintptr_t)e >> 4) * 0x9E3779B97F4A7C15ull) & (cap - 1);
        while (seen[i] && seen[i] != e)
            i = (i + 1) & (cap - 1);
        if (seen[i])
            continue;
        seen[i] = e;
        out[got++] = e;
    }
    free(seen);
    return got;
}

struct count_cb {
    htab_scan_fn *fn;
    void *arg;
    long long visited;
};

static void count_node(void *arg, hnode_t *e)
{
    struct count_cb *s = arg;
    s->visited++;
    s->fn(s->arg, e);
}

uint64_t htab_scan_count(const htab_t *t, uint64_t cursor, long long count, htab_scan_fn *fn,
                         void *arg)
{
    struct count_cb s = {fn, arg, 0};
    long long maxiter = count > LLONG_MAX / 10 ? LLONG_MAX : count * 10;

    do
        cursor = htab_scan(t, cursor, count_node, &s);
    while (cursor && maxiter-- > 0 && s.visited < count);
    return cursor;
}

void htab_drain(htab_t *t, htab_scan_fn *fn, void *arg)
{
    size_t b = 0;
    hnode_t *e = htab_next(t, &b, NULL);

    while (e) {
        hnode_t *next = htab_next(t, &b, e);
        if (fn)
            fn(arg, e);
        free(e);
        e = next;
    }
    htab_release(t);
}
