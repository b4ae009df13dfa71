/* store — partitions, their counters and whole-partition operations. Key-level
 * operations are in db.c, active expiry in expire.c, eviction in evict.c. */
#include "store.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "log.h"
#include "slot.h"
#include "store_priv.h"

/* Written by store_setup/teardown only, before/after workers run. */
partition_t *store_parts;
int store_nparts, store_ndbs;

/* ---- setup ------------------------------------------------------------- */

static uint64_t random_seed(void)
{
    uint64_t s = 0;
    if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s)
        s = now_us() ^ mono_us() << 20;
    return s;
}

void store_setup(int npartitions, int databases)
{
    if (npartitions < 1 || (npartitions & (npartitions - 1)) || npartitions > SLOT_COUNT)
        log_fatal("store: partitions must be a power of two in 1..%d, not %d", SLOT_COUNT,
                  npartitions);
    if (databases < 1)
        log_fatal("store: databases must be at least 1, not %d", databases);
    store_nparts = npartitions;
    store_ndbs = databases;
    dict_set_hash_seed(random_seed());
    store_parts = aligned_alloc(_Alignof(partition_t), sizeof(partition_t) * (size_t)npartitions);
    if (!store_parts)
        log_fatal("store: out of memory");
    memset(store_parts, 0, sizeof(partition_t) * (size_t)npartitions);
    uint64_t seed = random_seed();
    for (int i = 0; i < npartitions; i++) {
        partition_t *p = &store_parts[i];
        p->dbs = xcalloc((size_t)databases, sizeof *p->dbs);
        p->keys = xcalloc((size_t)databases, sizeof *p->keys);
        p->expires = xcalloc((size_t)databases, sizeof *p->expires);
        p->db_table_mem = xcalloc((size_t)databases, sizeof *p->db_table_mem);
        p->swap_seq = xcalloc((size_t)databases, sizeof *p->swap_seq);
        for (int db = 0; db < databases; db++) {
            atomic_init(&p->keys[db], 0);
            atomic_init(&p->expires[db], 0);
        }
        p->seed = seed + (uint64_t)(i + 1) * 0x9e3779b97f4a7c15ULL;
    }
}

void store_teardown(void)
{
    if (!store_parts)
        return;
    for (int i = 0; i < store_nparts; i++) {
        partition_t *p = &store_parts[i];
        db_flush(i, -1);
        free(p->dbs);
        free(p->keys);
        free(p->expires);
        free(p->db_table_mem);
        free(p->swap_seq);
    }
    free(store_parts);
    store_parts = NULL;
    store_nparts = store_ndbs = 0;
}

int store_partitions(void)
{
    return store_nparts;
}

int store_databases(void)
{
    return store_ndbs;
}

int store_part_of_key(sv_t key)
{
    return store_part_of_slot(slot_of(key.p, key.len), store_nparts);
}

/* ---- helpers shared by db.c, expire.c, evict.c -------------------------- */

void store_prefetch(int part, int db, sv_t key, int stage)
{
    dict_t *d = do_db_dict(&store_parts[part], db, 0);
    if (d)
        dict_prefetch(d, dict_hash(key.p, key.len), stage);
}

dict_t *do_db_dict(partition_t *p, int db, int create)
{
    if (!p->dbs[db] && create) {
        p->seed += 0x9e3779b97f4a7c15ULL;
        p->dbs[db] = dict_create(p->seed);
    }
    return p->dbs[db];
}

void do_sync_table_mem(partition_t *p, int db)
{
    dict_t *d = p->dbs[db];
    uint64_t now = d ? dict_mem(d) : 0, was = p->db_table_mem[db];
    if (now == was)
        return;
    p->db_table_mem[db] = now;
    if (now > was) {
        ctr_add(&p->table_mem, now - was);
        part_mem_add(p, now - was);
    } else {
        ctr_sub(&p->table_mem, was - now);
        part_mem_sub(p, was - now);
    }
}

void do_sync_counts(partition_t *p, int db)
{
    dict_t *d = p->dbs[db];
    atomic_store_explicit(&p->keys[db], d ? dict_size(d) : 0, memory_order_relaxed);
    atomic_store_explicit(&p->expires[db], d ? dict_volatile_count(d) : 0,
                          memory_order_relaxed);
    do_sync_table_mem(p, db);
}

static store_key_modified_fn *key_modified_hook;
_Atomic int store_modified_on;

void store_set_key_modified_hook(store_key_modified_fn *fn) { key_modified_hook = fn; }

void store_key_modified_enable(int on)
{
    atomic_store_explicit(&store_modified_on, on, memory_order_relaxed);
}

void do_key_modified(partition_t *p, const dict_entry_t *e)
{
    if (key_modified_hook)
        key_modified_hook((int)(p - store_parts), (sv_t){e->key, e->klen});
}

static void unlink_entry(partition_t *p, int db, dict_entry_t *e)
{
    do_note_modified(p, e);
    part_mem_sub(p, entry_mem(e));
    dict_unlink(p->dbs[db], e);
    obj_free(&e->val);
    free(e);
    do_sync_counts(p, db);
}

void do_delete_entry(partition_t *p, int db, dict_entry_t *e)
{
    p->del_seq[e->hash % WATCH_DEL_SLOTS] = ++p->wseq;
    unlink_entry(p, db, e);
}

static _Atomic uint64_t reclaim_paused_until;

void store_pause_reclaim(uint64_t until_us)
{
    atomic_store_explicit(&reclaim_paused_until, until_us, memory_order_relaxed);
}

int store_reclaim_paused(void)
{
    uint64_t until = atomic_load_explicit(&reclaim_paused_until, memory_order_relaxed);
    return until && mono_us() < until;
}

static store_key_event_fn *key_event_hook;

void store_set_key_event_hook(store_key_event_fn *fn) { key_event_hook = fn; }

void do_key_event(int event, int db, const dict_entry_t *e)
{
    if (key_event_hook)
        key_event_hook(event, db, (sv_t){e->key, e->klen});
}

/* An expiry is not stamped: a watcher that saw the key alive sees it gone,
 * and one that saw it already stale must not fail (Redis 7.0). */
void do_expire_entry(partition_t *p, int db, dict_entry_t *e)
{
    ctr_add(&p->expired, 1);
    do_key_event(STORE_EVENT_EXPIRED, db, e);
    unlink_entry(p, db, e);
}

/* ---- whole-partition operations ----------------------------------------- */

uint64_t db_size(int part, int db)
{
    return ctr_get(&store_parts[part].keys[db]);
}

uint64_t db_expires_count(int part, int db)
{
    return ctr_get(&store_parts[part].expires[db]);
}

static void flush_entry(void *arg, dict_entry_t *e)
{
    partition_t *p = arg;
    part_mem_sub(p, entry_mem(e));
    obj_free(&e->val);
}

void db_flush(int part, int db)
{
    partition_t *p = &store_parts[part];
    for (int i = 0; i < store_ndbs; i++) {
        if ((db >= 0 && i != db) || !p->dbs[i])
            continue;
        ctr_add(&p->dirty, dict_size(p->dbs[i]));
        dict_destroy(p->dbs[i], flush_entry, p);
        p->dbs[i] = NULL;
        do_sync_counts(p, i);
    }
}

void db_swap(int part, int a, int b)
{
    partition_t *p = &store_parts[part];
    dict_t *d = p->dbs[a];
    p->dbs[a] = p->dbs[b];
    p->dbs[b] = d;
    uint64_t m = p->db_table_mem[a];
    p->db_table_mem[a] = p->db_table_mem[b];
    p->db_table_mem[b] = m;
    p->swap_seq[a] = p->swap_seq[b] = ++p->wseq;
    p->pool_n = 0; /* its candidates name their database */
    do_sync_counts(p, a);
    do_sync_counts(p, b);
}

struct scan_arg {
    db_scan_fn *fn;
    void *arg;
    uint64_t now;
};

static void scan_entry(void *arg, dict_entry_t *e)
{
    struct scan_arg *sa = arg;
    if (!entry_expired(e, sa->now))
        sa->fn(sa->arg, (sv_t){e->key, e->klen}, &e->val);
}

uint64_t db_scan(int part, int db, uint64_t cursor, uint64_t now, db_scan_fn *fn, void *arg)
{
    dict_t *d = store_parts[part].dbs[db];
    if (!d)
        return 0;
    struct scan_arg sa = {fn, arg, now};
    return dict_scan(d, cursor, scan_entry, &sa);
}

int db_random_key(int part, int db, uint64_t now, buf_t *out)
{
    partition_t *p = &store_parts[part];
    dict_t *d = p->dbs[db];
    /* Expired keys met on the way are reclaimed; give up after a bounded
     * number of them (a database of nothing but expired keys is empty). */
    for (int tries = 0; d && tries < 100; tries++) {
        dict_entry_t *e = dict_random(d);
        if (!e)
            return 0;
        if (entry_expired(e, now)) {
            if (!store_reclaim_paused())
                do_expire_entry(p, db, e);
            continue;
        }
        out->len = 0;
        buf_append(out, e->key, e->klen);
        return 1;
    }
    return 0;
}

void store_rehash_step(int part, uint64_t budget_us)
{
    partition_t *p = &store_parts[part];
    uint64_t start = mono_us();
    for (int db = 0; db < store_ndbs; db++) {
        if (!p->dbs[db])
            continue;
        uint64_t spent = mono_us() - start;
        if (spent >= budget_us)
            break;
        dict_rehash_us(p->dbs[db], budget_us - spent);
        do_sync_table_mem(p, db);
    }
}

/* ---- counters ----------------------------------------------------------- */

static uint64_t since_base(_Atomic uint64_t *base, _Atomic uint64_t *c)
{
    uint64_t b = ctr_get(base), v = ctr_get(c);
    return v > b ? v - b : 0;
}

void store_stats(store_stats_t *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < store_nparts; i++) {
        partition_t *p = &store_parts[i];
        out->keyspace_hits += since_base(&p->base_hits, &p->hits);
        out->keyspace_misses += since_base(&p->base_misses, &p->misses);
        out->expired_keys += since_base(&p->base_expired, &p->expired);
        out->evicted_keys += since_base(&p->base_evicted, &p->evicted);
        out->used_memory += ctr_get(&p->used_memory);
        out->table_memory += ctr_get(&p->table_mem);
    }
}

void store_reset_stats(void)
{
    for (int i = 0; i < store_nparts; i++) {
        partition_t *p = &store_parts[i];
        atomic_store_explicit(&p->base_hits, ctr_get(&p->hits), memory_order_relaxed);
        atomic_store_explicit(&p->base_misses, ctr_get(&p->misses), memory_order_relaxed);
        atomic_store_explicit(&p->base_expired, ctr_get(&p->expired), memory_order_relaxed);
        atomic_store_explicit(&p->base_evicted, ctr_get(&p->evicted), memory_order_relaxed);
    }
}

uint64_t store_db_keys(int db)
{
    uint64_t n = 0;
    for (int i = 0; i < store_nparts; i++)
        n += ctr_get(&store_parts[i].keys[db]);
    return n;
}

uint64_t store_db_expires(int db)
{
    uint64_t n = 0;
    for (int i = 0; i < store_nparts; i++)
        n += ctr_get(&store_parts[i].expires[db]);
    return n;
}

/* ---- RDB persistence --------------------------------------------------- */

uint64_t store_parts_dirty(const int *parts, int n)
{
    uint64_t d = 0;
    for (int i = 0; i < n; i++)
        d += ctr_get(&store_parts[parts[i]].dirty);
    return d;
}

uint64_t store_dirty(void)
{
    uint64_t n = 0;
    for (int i = 0; i < store_nparts; i++)
        n += ctr_get(&store_parts[i].dirty);
    return n;
}

