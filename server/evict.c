/* evict — maxmemory: the limits, LRU/LFU bookkeeping on access, and eviction
 * of sampled keys when a partition is over its share. */
#include <stdatomic.h>
#include <string.h>

#include "store.h"
#include "store_priv.h"

/* Set from any thread (CONFIG SET), read on every write and access. */
static _Atomic uint64_t mm_bytes;
static _Atomic int mm_policy;
static _Atomic int mm_samples = 5;

#define SAMPLES_MAX 64
/* Eviction gives up the rest of its work to the next write after this long,
 * having made progress (as Redis's eviction time limit). */
#define EVICT_TIME_LIMIT_US 1000

/* LFU as Redis: an 8-bit logarithmic counter that starts at 5, grows with
 * probability 1/((c-5)*10+1) per access, and loses 1 per idle minute. */
#define LFU_INIT_VAL 5
#define LFU_LOG_FACTOR 10
#define LFU_DECAY_MINUTES 1

void store_set_maxmemory(uint64_t bytes, int policy, int samples)
{
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
    e->lru = (uint32_t)now_ms;
    e->lfu = lfu_minutes(now_ms) << 8 | LFU_INIT_VAL;
}

/* Only the data the current policy uses is refreshed (as Redis), so an access
 * costs a clock store, or the LFU arithmetic and one random number. */
void evict_touch(dict_t *d, dict_entry_t *e, uint64_t now_ms)
{
    if (!policy_is_lfu(atomic_load_explicit(&mm_policy, memory_order_relaxed))) {
        e->lru = (uint32_t)now_ms;
        return;
    }
    uint32_t cnt = lfu_decayed(e->lfu, now_ms);
    if (cnt < 255) {
        uint32_t base = cnt > LFU_INIT_VAL ? cnt - LFU_INIT_VAL : 0;
        double r = (double)(dict_rand(d) >> 11) / (double)(1ULL << 53);
        if (r < 1.0 / (base * LFU_LOG_FACTOR + 1))
            cnt++;
    }
    e->lfu = lfu_minutes(now_ms) << 8 | cnt;
}

/* Higher is a better victim. */
static uint64_t victim_score(int pol, const dict_entry_t *e, uint64_t now_ms)
{
    switch (pol) {
    case MAXMEM_ALLKEYS_LFU:
    case MAXMEM_VOLATILE_LFU:
        return 255 - lfu_decayed(e->lfu, now_ms);
    case MAXMEM_VOLATILE_TTL:
        return UINT64_MAX - (uint64_t)e->expire; /* the soonest to expire */
    default: {
        /* idle ms from a wrapping 32-bit clock: up to 24 days; a clock step
         * backwards reads as 0 */
        int32_t idle = (int32_t)((uint32_t)now_ms - e->lru);
        return idle < 0 ? 0 : (uint64_t)idle;
    }
    }
}

static int policy_is_volatile(int pol)
{
    return pol >= MAXMEM_VOLATILE_LRU;
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

/* Sample `samples` keys of each database into the pool, then take the best
 * remembered candidate that still exists: over a few calls this approximates
 * true LRU/LFU/TTL order much better than the best of one sample. */
static int pick_sampled(partition_t *p, int pol, int samples, uint64_t now, victim_t *v)
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
    while (p->pool_n > 0) {
        evict_cand_t c = p->pool[--p->pool_n];
        dict_t *d = p->dbs[c.db];
        if (d && dict_has_entry(d, c.e, c.hash) && (!vol || c.e->expire >= 0)) {
            v->e = c.e;
            v->db = c.db;
            return 1;
        }
    }
    return 0;
}

int store_make_room(int part)
{
    uint64_t max = atomic_load_explicit(&mm_bytes, memory_order_relaxed);
    if (!max)
        return 0;
    partition_t *p = &store_parts[part];
    uint64_t budget = max / (uint64_t)store_nparts;
    if (ctr_get(&p->used_memory) <= budget)
        return 0;
    int pol = atomic_load_explicit(&mm_policy, memory_order_relaxed);
    int samples = atomic_load_explicit(&mm_samples, memory_order_relaxed);
    if (pol == MAXMEM_NOEVICTION)
        return -1;
    uint64_t now = now_ms(), start = mono_us();
    unsigned evicted = 0;
    while (ctr_get(&p->used_memory) > budget) {
        victim_t v;
        int found;
        if (pol == MAXMEM_ALLKEYS_RANDOM || pol == MAXMEM_VOLATILE_RANDOM)
            found = pick_random(p, pol == MAXMEM_VOLATILE_RANDOM, &v);
        else
            found = pick_sampled(p, pol, samples, now, &v);
        if (!found)
            return -1;
        ctr_add(&p->evicted, 1);
        do_delete_entry(p, v.db, v.e);
        if ((++evicted & 15) == 0 && mono_us() - start > EVICT_TIME_LIMIT_US)
            return 0;
    }
    return 0;
}
