/* store_priv — internals shared by the store's files (store.c, db.c,
 * expire.c, evict.c); not for other modules. Every do_ function needs its
 * partition held by the calling task. */
#ifndef PERCORE_STORE_PRIV_H
#define PERCORE_STORE_PRIV_H

#include <stdatomic.h>
#include <stdint.h>

#include "dict.h"
#include "store.h"

/* An eviction candidate remembered across calls (as Redis's eviction pool).
 * The entry may have been deleted since: it is checked with dict_has_entry
 * before use. */
#define EVICT_POOL_SIZE 16
typedef struct evict_cand {
    dict_entry_t *e;
    uint64_t score; /* higher: better victim */
    uint32_t hash;
    int db;
} evict_cand_t;

#define WATCH_DEL_SLOTS 64

/* Counters are written only by the partition's holder (load + store, no
 * read-modify-write needed) and read by anyone. Resets don't write them:
 * they move the base_ snapshot, so the single writer is never raced. */
typedef struct partition {
    _Alignas(64) dict_t **dbs;  /* [databases], each created on first write */
    _Atomic uint64_t *keys;     /* [databases] */
    _Atomic uint64_t *expires;  /* [databases] */
    _Atomic uint64_t hits, misses, expired, evicted;
    _Atomic uint64_t used_memory; /* entries, values and tables (below) */
    _Atomic uint64_t table_mem;   /* the dicts' own arrays, part of used_memory */
    uint64_t *db_table_mem;       /* [databases]: dict_mem last charged */
    /* Eviction across partitions (evict.c): this partition's best candidate
     * as its holder last saw it (0: none), and whether its holder was asked
     * to evict. Written by the holder / any asker, read by anyone. */
    _Atomic uint64_t evict_hint;
    _Atomic int evict_asked;
    _Atomic uint64_t base_hits, base_misses, base_expired, base_evicted;
    /* keys changed (written, deleted, expired, evicted, flushed): RDB save
     * points and rdb_changes_since_last_save (store_dirty) */
    _Atomic uint64_t dirty;
    uint64_t seed;     /* for new dicts' random generators */
    int expire_db;     /* active expiry resumes at this database */
    int evict_db;      /* random eviction starts its database search here */
    int pool_n, pool_policy;
    /* WATCH: a write clock stamped on every changed entry, and per bucket of
     * key hashes the clock of the last deletion of a live key (so a key
     * created and deleted after WATCH is still seen as changed; a bucket
     * shared with another deleted key can only make EXEC abort, never miss). */
    uint64_t wseq;
    uint64_t del_seq[WATCH_DEL_SLOTS];
    /* [databases]: the clock of the last SWAPDB of each database (WATCH: a
     * key watched alive reads as changed after it, as Redis flags it). */
    uint64_t *swap_seq;
    evict_cand_t pool[EVICT_POOL_SIZE]; /* ascending score */
} partition_t;

extern partition_t *store_parts;
extern int store_nparts, store_ndbs;

/* The partition's counters have one writer, its holder: util's stat_add. */
static inline void ctr_add(_Atomic uint64_t *c, uint64_t d)
{
    stat_add(c, d);
}

static inline void ctr_sub(_Atomic uint64_t *c, uint64_t d)
{
    uint64_t v = atomic_load_explicit(c, memory_order_relaxed);
    atomic_store_explicit(c, v > d ? v - d : 0, memory_order_relaxed);
}

static inline uint64_t ctr_get(_Atomic uint64_t *c)
{
    return stat_get(c);
}

/* Memory charged to a partition is charged to the server-wide account too
 * (util.h), which is what maxmemory limits. */
static inline void part_mem_add(partition_t *p, uint64_t d)
{
    ctr_add(&p->used_memory, d);
    mem_account((int64_t)d);
}

static inline void part_mem_sub(partition_t *p, uint64_t d)
{
    ctr_sub(&p->used_memory, d);
    mem_account(-(int64_t)d);
}

static inline int entry_expired(const dict_entry_t *e, uint64_t now_ms)
{
    /* Redis: a key is expired once now is past its time, not at it */
    return e->expire >= 0 && now_ms > (uint64_t)e->expire;
}

/* Bytes the memory account charges for an entry and its value. */
static inline uint64_t entry_mem(const dict_entry_t *e)
{
    return dict_entry_mem(e->klen) + obj_mem(&e->val);
}

/* The dict of a database, created when create is set (else maybe NULL). */
dict_t *do_db_dict(partition_t *p, int db, int create);
/* Publish a database's key and TTL counts after a change, and charge any
 * change of its dict's tables (they grow and shrink with the key count). */
void do_sync_counts(partition_t *p, int db);
/* Unlink and free an entry and its value, keeping the accounts; a change
 * WATCH sees. */
void do_delete_entry(partition_t *p, int db, dict_entry_t *e);
/* store_key_modified_fn, while enabled (store.h). */
extern _Atomic int store_modified_on;
void do_key_modified(partition_t *p, const dict_entry_t *e);
static inline void do_note_modified(partition_t *p, const dict_entry_t *e)
{
    ctr_add(&p->dirty, 1);
    if (__builtin_expect(atomic_load_explicit(&store_modified_on, memory_order_relaxed), 0))
        do_key_modified(p, e);
}
/* Stamp an entry as changed now (WATCH), and tell the modified-key hook. */
static inline void do_touch_entry(partition_t *p, dict_entry_t *e)
{
    e->mseq = ++p->wseq;
    do_note_modified(p, e);
}
/* Same, counted as an expired key. */
void do_expire_entry(partition_t *p, int db, dict_entry_t *e);
/* Raise a store_key_event_fn event for entry e of database db (store.h). */
void do_key_event(int event, int db, const dict_entry_t *e);

/* LRU/LFU bookkeeping (evict.c), per the current maxmemory-policy. */
void evict_init_entry(dict_entry_t *e, uint64_t now_ms);
void evict_touch(dict_t *d, dict_entry_t *e, uint64_t now_ms);
/* OBJECT FREQ / IDLETIME: the LFU counter after decay, the ms since the
 * last access (whichever the policy keeps current, see evict_touch). */
/* RESTORE's IDLETIME / FREQ (-1: not given): set whichever the current
 * policy keeps, as Redis ignores the other. */
void evict_set_access(dict_entry_t *e, uint64_t now_ms, int64_t idle_s, int freq);
unsigned evict_lfu_count(const dict_entry_t *e, uint64_t now_ms);
uint64_t evict_idle_ms(const dict_entry_t *e, uint64_t now_ms);
/* Charge the tables of database db again after a change that may resize them. */
void do_sync_table_mem(partition_t *p, int db);

#endif
