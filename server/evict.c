/* evict — maxmemory: the limits, LRU/LFU bookkeeping on access, and eviction
 * across partitions when the server is over its limit.
 *
 * The limit is server-wide: the memory account (util.h) sums every
 * partition's account and the clients' buffers, read cheaply while clearly
 * under the limit and exactly near it (used_vs).
 * A write over the limit first looks at its own partition's best candidate
 * (an eviction pool per partition, filled by sampling, as Redis's) and at the
 * best candidates other partitions last published (evict_hint; up to
 * HINT_SCAN of them, from a random start). Its own wins unless another is
 * clearly better (SCORE_MARGIN); then that partition evicts: at once when the
 * calling thread may touch it (the scheduler's try_now: its owner under
 * share-nothing, a free lock otherwise), else its holder is asked by message
 * and the write goes ahead while the server is within EVICT_SLACK of the
 * limit; past that, the write evicts its own keys, so memory stays bounded
 * whatever a slow owner does. Cron refreshes hints of idle partitions and
 * evicts when the server is over its limit without writes (CONFIG SET). */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "store.h"
#include "store_priv.h"

/* Set from any thread (CONFIG SET), read on every write and access. */
static _Atomic uint64_t mm_bytes;
static _Atomic int mm_policy;
static _Atomic int mm_samples = 5;

/* The server's memory, for a decision against max: the cheap reading when it
 * is clearly under, else the exact sum of every thread's part (util.h), so
 * the limit holds to a write even with many threads' unsent changes. */
static uint64_t used_vs(uint64_t max)
{
    uint64_t u = mem_used_here();
    if (u + mem_used_slack() > max)
        u = mem_used_exact();
    uint64_t skip = mem_not_counted();
    return u > skip ? u - skip : 0;
}

#define SAMPLES_MAX 64
/* Hints of at most this many other partitions are compared per eviction. */
#define HINT_SCAN 64
/* A write may run ahead of asked evictions by this share of maxmemory. */
#define EVICT_SLACK_DIV 32
/* Eviction gives up the rest of its work to the next write after this long,
 * having made progress (as Redis's eviction time limit). */
#define EVICT_TIME_LIMIT_US 1000

/* LFU as Redis: an 8-bit logarithmic counter that starts at 5, grows with
 * probability 1/((c-5)*10+1) per access, and loses 1 per idle minute. */
#define LFU_INIT_VAL 5
#define LFU_LOG_FACTOR 10
#define LFU_DECAY_MINUTES 1

/* dict.c's expand hook: a table doubling that would take the server past
 * maxmemory waits (as Redis's dictExpandAllowed), rather than evict its
 * size in keys at once. */
static int expand_allowed(size_t more)
{
    uint64_t max = atomic_load_explicit(&mm_bytes, memory_order_relaxed);
    return !max || used_vs(max) + more <= max;
}

void store_set_maxmemory(uint64_t bytes, int policy, int samples)
{
    dict_set_expand_hook(expand_allowed);
    if (samples < 1)
        samples = 1;
    if (samples > SAMPLES_MAX)
        samples = SAMPLES_MAX;
    atomic_store_explicit(&mm_bytes, bytes, memory_order_relaxed);
    atomic_store_explicit(&mm_policy, policy, memory_order_relaxed);
    atomic_store_explicit(&mm_samples, samples, memory_order_relaxed);
}

static int policy_is_lfu(int pol)
{
    return pol == MAXMEM_ALLKEYS_LFU || pol == MAXMEM_VOLATILE_LFU;
}

static uint32_t lfu_minutes(uint64_t now_ms)
{
    return (uint32_t)((now_ms / 60000u) & 0xffffu);
}

/* The counter after decay for the minutes since its last access. */
static uint32_t lfu_decayed(uint32_t lfu, uint64_t now_ms)
{
    uint32_t last = lfu >> 8, cnt = lfu & 0xffu, now = lfu_minutes(now_ms);
    uint32_t idle = now >= last ? now - last : 65536u - last + now;
    uint32_t periods = idle / LFU_DECAY_MINUTES;
    return periods >= cnt ? 0 : cnt - periods;
}

void evict_init_entry(dict_entry_t *e, uint64_t now_ms)
{
    if (policy_is_lfu(atomic_load_explicit(&mm_policy, memory_order_relaxed)))
        e->access = lfu_minutes(now_ms) << 8 | LFU_INIT_VAL;
    else
        e->access = (uint32_t)now_ms;
}

/* Only the data the current policy uses is refreshed (as Redis), so an access
 * costs a clock store, or the LFU arithmetic and one random number. */
void evict_touch(dict_t *d, dict_entry_t *e, uint64_t now_ms)
{
    if (!policy_is_lfu(atomic_load_explicit(&mm_policy, memory_order_relaxed))) {
        e->access = (uint32_t)now_ms;
        return;
    }
    uint32_t cnt = lfu_decayed(e->access, now_ms);
    if (cnt < 255) {
        uint32_t base = cnt > LFU_INIT_VAL ? cnt - LFU_INIT_VAL : 0;
        double r = (double)(dict_rand(d) >> 11) / (double)(1ULL << 53);
        if (r < 1.0 / (base * LFU_LOG_FACTOR + 1))
            cnt++;
    }
    e->access = lfu_minutes(now_ms) << 8 | cnt;
}

int store_policy_is_lfu(void)
{
    return policy_is_lfu(atomic_load_explicit(&mm_policy, memory_order_relaxed));
}

void evict_set_access(dict_entry_t *e, uint64_t now_ms, int64_t idle_s, int freq)
{
    int lfu = policy_is_lfu(atomic_load_explicit(&mm_policy, memory_order_relaxed));
    if (freq >= 0 && lfu) {
        e->access = lfu_minutes(now_ms) << 8 | (uint32_t)(freq > 255 ? 255 : freq);
    } else if (idle_s >= 0 && !lfu) {
        /* the 32-bit clock reads idle times up to INT32_MAX ms back */
        uint64_t ms = (uint64_t)idle_s > INT32_MAX / 1000 ? INT32_MAX : (uint64_t)idle_s * 1000;
        e->access = (uint32_t)(now_ms - ms);
    }
}

unsigned evict_lfu_count(const dict_entry_t *e, uint64_t now_ms)
{
    return lfu_decayed(e->access, now_ms);
}

uint64_t evict_idle_ms(const dict_entry_t *e, uint64_t now_ms)
{
    /* idle ms from a wrapping 32-bit clock: up to 24 days; a clock step
     * backwards reads as 0 */
    int32_t idle = (int32_t)((uint32_t)now_ms - e->access);
    return idle < 0 ? 0 : (uint64_t)idle;
}

/* Higher is a better victim. */
static uint64_t victim_score(int pol, const dict_entry_t *e, uint64_t now_ms)
{
    switch (pol) {
    case MAXMEM_ALLKEYS_LFU:
    case MAXMEM_VOLATILE_LFU:
        return 255 - lfu_decayed(e->access, now_ms);
    case MAXMEM_VOLATILE_TTL:
        return UINT64_MAX - (uint64_t)e->expire; /* the soonest to expire */
    default: return evict_idle_ms(e, now_ms);
    }
}

static int policy_is_volatile(int pol)
{
    return pol >= MAXMEM_VOLATILE_LRU;
}

static int policy_is_random(int pol)
{
    return pol == MAXMEM_ALLKEYS_RANDOM || pol == MAXMEM_VOLATILE_RANDOM;
}

static store_evict_hooks_t hooks;


void store_set_evict_hooks(const store_evict_hooks_t *h)
{
    hooks = *h;
}

typedef struct victim {
    dict_entry_t *e;
    int db;
} victim_t;

/* A random key: from the next database (round robin) that has candidates. */
static int pick_random(partition_t *p, int vol, victim_t *v)
{
    for (int k = 0; k < store_ndbs; k++) {
        int db = (p->evict_db + k) % store_ndbs;
        dict_t *d = p->dbs[db];
        if (!d || (vol ? dict_volatile_count(d) : dict_size(d)) == 0)
            continue;
        p->evict_db = (db + 1) % store_ndbs;
        v->e = vol ? dict_volatile_random(d) : dict_random(d);
        v->db = db;
        return v->e != NULL;
    }
    return 0;
}

/* Remember a sampled candidate if it beats the worst one remembered. */
static void pool_insert(partition_t *p, dict_entry_t *e, int db, uint64_t score)
{
    for (int i = 0; i < p->pool_n; i++)
        if (p->pool[i].e == e)
            return;
    if (p->pool_n == EVICT_POOL_SIZE) {
        if (score <= p->pool[0].score)
            return;
        memmove(&p->pool[0], &p->pool[1], sizeof p->pool[0] * (EVICT_POOL_SIZE - 1));
        p->pool_n--;
    }
    int i = p->pool_n;
    while (i > 0 && p->pool[i - 1].score > score) {
        p->pool[i] = p->pool[i - 1];
        i--;
    }
    p->pool[i] = (evict_cand_t){e, score, e->hash, db};
    p->pool_n++;
}

/* Sample `samples` keys of each database into the pool: over a few calls
 * this approximates true LRU/LFU/TTL order much better than the best of one
 * sample. */
static void pool_fill(partition_t *p, int pol, int samples, uint64_t now)
{
    dict_entry_t *cand[SAMPLES_MAX];
    int vol = policy_is_volatile(pol);
    if (p->pool_policy != pol) {
        p->pool_n = 0;
        p->pool_policy = pol;
    }
    for (int db = 0; db < store_ndbs; db++) {
        dict_t *d = p->dbs[db];
        size_t n = 0;
        if (!d)
            continue;
        if (vol) {
            if (dict_volatile_count(d) == 0)
                continue;
            for (; n < (size_t)samples; n++)
                cand[n] = dict_volatile_random(d);
        } else {
            n = dict_sample(d, cand, (size_t)samples);
        }
        for (size_t i = 0; i < n; i++)
            pool_insert(p, cand[i], db, victim_score(pol, cand[i], now));
    }
}

/* The best remembered candidate that still exists (left in the pool);
 * those deleted or changed since they were sampled are dropped. */
static int pool_peek(partition_t *p, int pol, victim_t *v)
{
    int vol = policy_is_volatile(pol);
    if (p->pool_policy != pol)
        return 0;
    while (p->pool_n > 0) {
        evict_cand_t c = p->pool[p->pool_n - 1];
        dict_t *d = p->dbs[c.db];
        if (d && dict_has_entry(d, c.e, c.hash) && (!vol || c.e->expire >= 0)) {
            v->e = c.e;
            v->db = c.db;
            return 1;
        }
        p->pool_n--;
    }
    return 0;
}

/* Hints: what another thread needs to score this partition's best candidate
 * later (an LRU score grows with time, so its clock is kept), plus 1; 0 is
 * "no candidate". */
static uint64_t hint_of(int pol, const dict_entry_t *e, uint64_t now)
{
    switch (pol) {
    case MAXMEM_ALLKEYS_LRU:
    case MAXMEM_VOLATILE_LRU: return (uint64_t)e->access + 1;
    case MAXMEM_VOLATILE_TTL: return (uint64_t)e->expire + 1;
    default: return victim_score(pol, e, now) + 1;
    }
}

static uint64_t rng_next(void)
{
    static _Thread_local uint64_t rng = 0x9e3779b97f4a7c15ULL;
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint64_t volatile_keys(partition_t *p)
{
    uint64_t n = 0;
    for (int db = 0; db < store_ndbs; db++)
        n += ctr_get(&p->expires[db]);
    return n;
}

/* Partition q's score as a source of victims (higher is better); 0 when it
 * has none. Random policies take from the partitions holding the most. */
static uint64_t part_score(int q, int pol, uint64_t now)
{
    partition_t *p = &store_parts[q];
    if (policy_is_random(pol)) {
        if (pol == MAXMEM_VOLATILE_RANDOM && volatile_keys(p) == 0)
            return 0;
        return ctr_get(&p->used_memory);
    }
    uint64_t h = atomic_load_explicit(&p->evict_hint, memory_order_relaxed);
    if (!h)
        return 0;
    h--;
    switch (pol) {
    case MAXMEM_ALLKEYS_LRU:
    case MAXMEM_VOLATILE_LRU: {
        int32_t idle = (int32_t)((uint32_t)now - (uint32_t)h);
        return idle < 0 ? 1 : (uint64_t)idle + 1;
    }
    case MAXMEM_VOLATILE_TTL: return UINT64_MAX - h;
    default: return h + 1;
    }
}

static void publish_hint(partition_t *p, int pol, uint64_t now)
{
    victim_t v;
    uint64_t h = 0;
    if (!policy_is_random(pol) && pool_peek(p, pol, &v))
        h = hint_of(pol, v.e, now);
    atomic_store_explicit(&p->evict_hint, h, memory_order_relaxed);
}

/* This partition's best candidate and its score (0: none). */
static uint64_t best_local(partition_t *p, int pol, int samples, uint64_t now, victim_t *v)
{
    if (policy_is_random(pol)) {
        if (!pick_random(p, pol == MAXMEM_VOLATILE_RANDOM, v))
            return 0;
        return part_score((int)(p - store_parts), pol, now);
    }
    /* A pool full of candidates deleted since keeps new samples out until
     * pool_peek drops them: then one more fill finds the live ones. */
    pool_fill(p, pol, samples, now);
    if (!pool_peek(p, pol, v)) {
        pool_fill(p, pol, samples, now);
        if (!pool_peek(p, pol, v))
            return 0;
    }
    return victim_score(pol, v->e, now) + 1;
}

/* The other partition with the best published candidates, or -1. */
static int best_other(int self, int pol, uint64_t now, uint64_t *score)
{
    int n = store_nparts <= HINT_SCAN ? store_nparts : HINT_SCAN;
    int start = 0, best = -1;
    if (n < store_nparts)
        start = (int)(rng_next() % (uint64_t)store_nparts);
    *score = 0;
    for (int k = 0; k < n; k++) {
        int q = (start + k) & (store_nparts - 1); /* self -1: none is ours */
        if (q == self)
            continue;
        uint64_t s = part_score(q, pol, now);
        if (s > *score) {
            *score = s;
            best = q;
        }
    }
    return best;
}

/* A partition drawn with a chance proportional to its memory (among
 * ROULETTE_DRAWS uniform draws): where a uniformly random key lives, so
 * random eviction (and LFU's ties) take from every partition in proportion
 * instead of evening them out, which would cap a hash tag's partition near
 * its 1/partitions share again. -1 when none of the draws has candidates. */
#define ROULETTE_DRAWS 4
static int roulette(int pol)
{
    int cand[ROULETTE_DRAWS];
    uint64_t w[ROULETTE_DRAWS], total = 0;
    for (int k = 0; k < ROULETTE_DRAWS; k++) {
        cand[k] = (int)(rng_next() % (uint64_t)store_nparts);
        uint64_t used = ctr_get(&store_parts[cand[k]].used_memory);
        w[k] = pol == MAXMEM_VOLATILE_RANDOM && !volatile_keys(&store_parts[cand[k]]) ? 0 : used;
        total += w[k];
    }
    if (!total)
        return -1;
    uint64_t x = rng_next() % total;
    for (int k = 0; k < ROULETTE_DRAWS; k++) {
        if (x < w[k])
            return cand[k];
        x -= w[k];
    }
    return -1;
}

/* Where the next victim comes from: another partition (>= 0) or this one
 * (-1). LRU and TTL: another whose published candidate is clearly better (a
 * quarter and 100 ms more idle, or sooner to expire), so spread keys mostly
 * evict locally; LFU: a better counter, a tie drawn by memory; random: drawn
 * by memory. own is this partition's best score, 0 when it has none. */
static int choose_source(int self, int pol, uint64_t own, uint64_t now)
{
    if (policy_is_random(pol)) {
        int q = roulette(pol);
        if (q < 0 || q == self)
            q = own ? -1 : best_other(self, pol, now, &(uint64_t){0});
        return q;
    }
    uint64_t other;
    int q = best_other(self, pol, now, &other);
    if (q < 0 || !own)
        return q;
    if (pol == MAXMEM_ALLKEYS_LFU || pol == MAXMEM_VOLATILE_LFU) {
        if (other > own)
            return q;
        if (other < own)
            return -1;
        q = roulette(pol);
        return q == self ? -1 : q;
    }
    return other > own + own / 4 + 100 ? q : -1;
}

static void evict_entry(partition_t *p, victim_t *v)
{
    if (p->pool_n > 0 && p->pool[p->pool_n - 1].e == v->e)
        p->pool_n--;
    ctr_add(&p->evicted, 1);
    do_key_event(STORE_EVENT_EVICTED, v->db, v->e);
    do_delete_entry(p, v->db, v->e);
}

/* Without hooks (no scheduler: the store's unit tests) the caller holds
 * every partition. */
static int try_now(int q)
{
    if (!hooks.try_now) {
        store_evict_pass(q);
        return 1;
    }
    return hooks.try_now(q);
}

static void ask(int q)
{
    partition_t *p = &store_parts[q];
    if (hooks.ask && !atomic_exchange_explicit(&p->evict_asked, 1, memory_order_relaxed))
        hooks.ask(q);
}

int store_over_maxmemory(void)
{
    uint64_t max = atomic_load_explicit(&mm_bytes, memory_order_relaxed);
    return max && used_vs(max) > max && !store_reclaim_paused();
}

int store_make_room(int part)
{
    uint64_t max = atomic_load_explicit(&mm_bytes, memory_order_relaxed);
    if (!max || used_vs(max) <= max || store_reclaim_paused())
        return 0;
    int pol = atomic_load_explicit(&mm_policy, memory_order_relaxed);
    int samples = atomic_load_explicit(&mm_samples, memory_order_relaxed);
    if (pol == MAXMEM_NOEVICTION)
        return -1;
    partition_t *p = part >= 0 ? &store_parts[part] : NULL;
    uint64_t now = now_ms(), start = mono_us(), slack = max / EVICT_SLACK_DIV;
    int rc = 0;
    while (used_vs(max) > max) {
        victim_t v;
        uint64_t own = p ? best_local(p, pol, samples, now, &v) : 0;
        int q = choose_source(part, pol, own, now);
        if (q >= 0) {
            if (!try_now(q)) {
                ask(q);
                if (used_vs(max) <= max + slack)
                    break; /* its holder catches up */
                if (!own) {
                    rc = -1;
                    break;
                }
                evict_entry(p, &v); /* too far over to wait for it */
            }
        } else if (!own) {
            rc = -1; /* nothing anywhere */
            break;
        } else {
            evict_entry(p, &v);
        }
        if (mono_us() - start > EVICT_TIME_LIMIT_US)
            break; /* progress made: the next write goes on with it */
    }
    if (p)
        publish_hint(p, pol, now);
    return rc;
}

/* Evict from a held partition while the server is over its limit and this
 * partition has the best candidates; at least one key when asked (so a
 * hand-off always makes progress). */
static void evict_pass(int part, int asked)
{
    uint64_t max = atomic_load_explicit(&mm_bytes, memory_order_relaxed);
    int pol = atomic_load_explicit(&mm_policy, memory_order_relaxed);
    int samples = atomic_load_explicit(&mm_samples, memory_order_relaxed);
    if (!max || pol == MAXMEM_NOEVICTION || store_reclaim_paused())
        return;
    partition_t *p = &store_parts[part];
    uint64_t now = now_ms(), start = mono_us();
    for (int n = 0; used_vs(max) > max && mono_us() - start <= EVICT_TIME_LIMIT_US; n++) {
        victim_t v;
        uint64_t own = best_local(p, pol, samples, now, &v);
        if (!own)
            break;
        /* random: no hand-off (one key is as good as another) */
        int q = policy_is_random(pol) ? -1 : choose_source(part, pol, own, now);
        if (q >= 0 && (n > 0 || !asked)) {
            ask(q);
            break;
        }
        evict_entry(p, &v);
    }
    publish_hint(p, pol, now);
}

void store_evict_pass(int part)
{
    evict_pass(part, 1);
}

void store_evict_asked(int part)
{
    evict_pass(part, 1);
    atomic_store_explicit(&store_parts[part].evict_asked, 0, memory_order_relaxed);
}

void store_evict_unask(int part)
{
    atomic_store_explicit(&store_parts[part].evict_asked, 0, memory_order_relaxed);
}

void store_evict_cron(int part, uint64_t now)
{
    uint64_t max = atomic_load_explicit(&mm_bytes, memory_order_relaxed);
    int pol = atomic_load_explicit(&mm_policy, memory_order_relaxed);
    if (!max || pol == MAXMEM_NOEVICTION || mem_used() < max / 4 * 3 || store_reclaim_paused())
        return;
    partition_t *p = &store_parts[part];
    if (used_vs(max) > max) {
        evict_pass(part, 0);
        return;
    }
    if (!policy_is_random(pol)) {
        pool_fill(p, pol, atomic_load_explicit(&mm_samples, memory_order_relaxed), now);
        publish_hint(p, pol, now);
    }
}
