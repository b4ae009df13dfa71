/* store — the partitioned keyspace: setup, slot -> partition mapping, active
 * expiry, memory accounting and eviction, and the counters INFO shows.
 * A partition is only touched by the task holding it (see scheduler.h); the
 * counters below are single-writer relaxed atomics, so INFO and DBSIZE may read
 * them from any thread without holding anything. */
#ifndef PERCORE_STORE_H
#define PERCORE_STORE_H

#include <stdint.h>

#include "buf.h"
#include "object.h"
#include "util.h"

enum maxmemory_policy {
    MAXMEM_NOEVICTION = 0,
    MAXMEM_ALLKEYS_LRU,
    MAXMEM_ALLKEYS_LFU,
    MAXMEM_ALLKEYS_RANDOM,
    MAXMEM_VOLATILE_LRU,
    MAXMEM_VOLATILE_LFU,
    MAXMEM_VOLATILE_RANDOM,
    MAXMEM_VOLATILE_TTL,
};

/* npartitions: a power of two; databases: SELECT range. */
void store_setup(int npartitions, int databases);
void store_teardown(void);

int store_partitions(void);
int store_databases(void);
static inline int store_part_of_slot(unsigned slot, int npartitions)
{
    return (int)(slot & (unsigned)(npartitions - 1));
}
int store_part_of_key(sv_t key);
/* Owner of partition part only: prefetch what a lookup of key in db will
 * read (stage 0: its bucket; 1: the first entry there). See dict_prefetch. */
void store_prefetch(int part, int db, sv_t key, int stage);

/* Limits read on every write; set at startup and by CONFIG SET (any thread). */
void store_set_maxmemory(uint64_t bytes, int policy, int samples);

/* Before a command that may grow memory runs on partition part (held): when
 * the server is over maxmemory, evict per policy from the partitions with the
 * best candidates (evict.c says how). Returns 0 when the write may go ahead,
 * -1 when it must be refused with Redis's OOM error (noeviction, or nothing
 * left to evict). part -1: the write holds no partition (a keyless script). */
int store_make_room(int part);

/* Whether maxmemory-policy is an LFU one (OBJECT FREQ / IDLETIME; any thread). */
int store_policy_is_lfu(void);

/* Whether the server is over maxmemory now (cheap while clearly under). */
int store_over_maxmemory(void);

/* Eviction in partitions the caller does not hold, by whoever may touch
 * them (set by the scheduler before workers run):
 * try_now: run store_evict_pass(part) now if the calling thread may touch
 *          part (returns 1), else 0;
 * ask:     have part's holder run store_evict_asked(part) soon (or
 *          store_evict_unask(part) when it can't); never waits. */
typedef struct store_evict_hooks {
    int (*try_now)(int part);
    void (*ask)(int part);
} store_evict_hooks_t;
void store_set_evict_hooks(const store_evict_hooks_t *h);
/* Keyspace events the store raises itself, published by a layer above
 * (notify.c): a key expired (lazily, on access, or actively) or was evicted.
 * fn runs on the partition's holder just before the key is freed; it must not
 * touch the store. Set once before workers run (NULL: none). */
enum { STORE_EVENT_EXPIRED, STORE_EVENT_EVICTED };
/* CLIENT PAUSE (client_pause.c) stops expiry and eviction until until_us (a
 * mono_us time; 0: not paused), as Redis 7.0: active expiry and eviction skip,
 * nothing is refused for memory, and a read sees an expired key as missing but
 * leaves it (a write that creates the key reclaims it first). Any thread. */
void store_pause_reclaim(uint64_t until_us);
int store_reclaim_paused(void);
typedef void store_key_event_fn(int event, int db, sv_t key);
void store_set_key_event_hook(store_key_event_fn *fn);
/* A key's value changed or the key went away (written, deleted, expired,
 * evicted; not a whole-partition flush): client-side caching's invalidation
 * (tracking.c). fn runs on the partition's holder, after the change or just
 * before the entry is freed; it must not touch the store. The hook is only
 * called while enabled (store_key_modified_enable, any thread, relaxed), so
 * while nobody tracks keys a write pays one relaxed load. Set the hook once
 * before workers run. */
typedef void store_key_modified_fn(int part, sv_t key);
void store_set_key_modified_hook(store_key_modified_fn *fn);
void store_key_modified_enable(int on);

/* On the holder of part: evict while the server is over its limit and part
 * holds the best candidates; _asked also ends the request, _unask ends it
 * without evicting (the partition was busy). */
void store_evict_pass(int part);
void store_evict_asked(int part);
void store_evict_unask(int part);
/* Cron on a held partition: keep its published best candidate fresh near the
 * limit, and evict when over it without writes (a lowered maxmemory). */
void store_evict_cron(int part, uint64_t now_ms);

/* Active expiry for one held partition: sample keys with a TTL and delete the
 * expired ones, repeating while many were expired, for at most budget_us.
 * Returns the number of keys deleted. */
uint64_t store_active_expire(int part, uint64_t now_ms, uint64_t budget_us);
/* DEBUG SET-ACTIVE-EXPIRE: 0 stops active expiry (lazy expiry stays). Any thread. */
void store_set_active_expire(int on);

/* Incremental rehash step for a held partition, at most budget_us (called from
 * the owner's idle time so resizes never pause a command for long). */
void store_rehash_step(int part, uint64_t budget_us);

typedef struct store_stats {
    uint64_t keyspace_hits, keyspace_misses;
    uint64_t expired_keys, evicted_keys;
    uint64_t used_memory;  /* keys, values and dict tables, per the partition accounts */
    uint64_t table_memory; /* of which the dicts' tables */
} store_stats_t;

/* Sum of every partition's counters (reads relaxed atomics; any thread). */
void store_stats(store_stats_t *out);
void store_reset_stats(void);
/* Keys and keys-with-TTL of database db over all partitions (any thread). */
uint64_t store_db_keys(int db);
uint64_t store_db_expires(int db);

/* ---- whole-partition operations (the task holds partition `part`) ---------- */

/* Number of live keys of database `db` in partition `part` (may count keys
 * that expired but were not yet reclaimed, as Redis's DBSIZE does). */
uint64_t db_size(int part, int db);
uint64_t db_expires_count(int part, int db);
/* Remove every key of database db (or of all databases when db < 0). */
void db_flush(int part, int db);
/* SWAPDB: exchange the keys of databases a and b in partition part (a WATCH
 * of a key alive in either reads as changed afterwards). */
void db_swap(int part, int a, int b);

/* Visit keys of database db in partition part with a cursor that survives
 * resizes (reverse-binary bucket order, as Redis's SCAN): calls fn for each live
 * key in one or more buckets and returns the next cursor, 0 when done. Expired
 * keys are skipped. fn gets the key and its value. */
typedef void db_scan_fn(void *arg, sv_t key, const obj_t *val);
uint64_t db_scan(int part, int db, uint64_t cursor, uint64_t now_ms, db_scan_fn *fn, void *arg);
/* A random live key of database db in partition part, copied into out; 0 if none. */
int db_random_key(int part, int db, uint64_t now_ms, buf_t *out);

/* ---- RDB persistence (persist.c) ----------------------------------------- */

/* Key changes since startup, over every partition: each write, delete,
 * expiry and eviction the modified-key hook would see, and the keys a flush
 * removed (any thread; RDB save points, rdb_changes_since_last_save). */
uint64_t store_dirty(void);
/* The changes counted on these partitions (their holder; the AOF compares
 * it around a call). */
uint64_t store_parts_dirty(const int *parts, int n);

/* One key as a snapshot sees it. idle_s / freq: the LRU idle seconds or
 * the LFU counter, whichever the policy keeps (the other -1). */
typedef struct store_entry {
    sv_t key;
    const obj_t *val;
    int64_t expire_ms; /* -1: no TTL */
    int64_t idle_s;
    int freq;
} store_entry_t;
typedef void store_walk_fn(void *arg, const store_entry_t *e);
/* Every entry of database db in partition part, expired ones included, for
 * a reader that holds the partition or is a fork's child (reads only). */
void store_walk(int part, int db, uint64_t now_ms, store_walk_fn *fn, void *arg);
/* Loading a file: put key in db of its partition with *val (taken), the
 * TTL (-1: none) and the access info (-1: not given), replacing any value.
 * The caller holds the key's partition (or no worker runs yet). Returns 1
 * when the key already existed. */
int store_load_key(int db, sv_t key, obj_t *val, int64_t expire_ms, int64_t idle_s, int freq,
                   uint64_t now_ms);

#endif
