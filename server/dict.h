/* dict — the hash table of one database of one partition: byte-string keys
 * stored inline in their entry, the value (obj_t) inline too, an absolute
 * expire time, and LRU/LFU data. Chained buckets, power-of-two sizes, and
 * incremental rehash between two tables (a bucket moved on each operation
 * plus dict_rehash_us from idle time). Keys with a TTL are also kept in an
 * array so one can be sampled at random in O(1).
 *
 * Not thread-safe: only the holder of the dict's partition calls these.
 * Entry pointers stay valid until that entry is unlinked (rehashing moves
 * entries between tables but never reallocates them). */
#ifndef PERCORE_DICT_H
#define PERCORE_DICT_H

#include <stddef.h>
#include <stdint.h>

#include "object.h"
#include "util.h"

#define DICT_NO_EXPIRE (-1)
#define DICT_NOT_VOLATILE UINT32_MAX

/* 56 bytes before the key, so a key of up to 8 bytes fits a 64-byte size
 * class: every key pays for this header. */
typedef struct dict_entry {
    struct dict_entry *next;
    int64_t expire;    /* absolute unix ms, or DICT_NO_EXPIRE */
    obj_t val;         /* 16 bytes (object.h) */
    uint64_t mseq;     /* partition write clock at the last change (WATCH) */
    uint32_t hash;     /* low 32 bits of dict_hash(key) */
    uint32_t vidx;     /* index in the volatile array, or DICT_NOT_VOLATILE */
    /* The access data of the maxmemory policy in force (evict.c), one field
     * as Redis's 24-bit lru: an LRU policy keeps the clock (unix ms, wrapping
     * at 2^32), an LFU one minutes (16 bits) << 8 | log counter (8 bits); a
     * policy change reads what the other left, as Redis does. */
    uint32_t access;
    uint32_t klen;
    char key[];
} dict_entry_t;

_Static_assert(offsetof(dict_entry_t, key) == 56, "entry header size");

typedef struct dict dict_t;

dict_t *dict_create(uint64_t seed);
/* Frees every entry (calling fn first on each, when not NULL) and the dict. */
void dict_destroy(dict_t *d, void (*fn)(void *arg, dict_entry_t *e), void *arg);

/* The key hash: util's seeded hash_bytes (against collision flooding). Seed
 * it once at startup, before any dict holds keys; 0 (the default) is fine for
 * tests. */
static inline void dict_set_hash_seed(uint64_t seed)
{
    hash_bytes_seed(seed);
}
static inline uint64_t dict_hash(const char *k, size_t n)
{
    return hash_bytes(k, n);
}
/* A hint for a lookup soon of hash h: stage 0 prefetches its bucket, stage 1
 * (once the bucket is cached) the chain's first entry. Changes nothing. */
void dict_prefetch(const dict_t *d, uint64_t h, int stage);
size_t dict_size(const dict_t *d);
/* Whether a table may grow by more_bytes now (the store's maxmemory check;
 * any thread, any time). Without it, or when it says yes, tables grow
 * at a load factor of 1; when it says no, they go on chaining up to 1.625. */
void dict_set_expand_hook(int (*allowed)(size_t more_bytes));
/* Allocated bytes of the dict's own arrays (buckets of both tables, the
 * volatile array) and struct; entries are charged apart (dict_entry_mem). */
size_t dict_mem(const dict_t *d);
/* Allocated bytes of a new entry for a key of n bytes (for memory accounts). */
size_t dict_entry_mem(size_t klen);

/* Find with a precomputed hash (dict_hash), or compute it. */
dict_entry_t *dict_find_h(dict_t *d, uint64_t h, const char *k, size_t n);
dict_entry_t *dict_find(dict_t *d, const char *k, size_t n);
/* Add a key the caller knows is absent. The entry has no expire, an empty
 * ENC_INT value and lru/lfu 0 for the caller to fill. Keys are < 4 GiB. */
dict_entry_t *dict_add_h(dict_t *d, uint64_t h, const char *k, size_t n);
/* Whether e (a pointer that may be stale: it is compared, never read unless
 * found) is an entry of d with this hash. */
int dict_has_entry(const dict_t *d, const dict_entry_t *e, uint32_t hash);
/* Unlink an entry (also from the volatile array); the caller frees it with
 * free() after releasing its value. */
void dict_unlink(dict_t *d, dict_entry_t *e);

/* Set (when >= 0) or clear (DICT_NO_EXPIRE) an entry's expire time, keeping
 * the volatile array in step. */
void dict_set_expire(dict_t *d, dict_entry_t *e, int64_t when);
size_t dict_volatile_count(const dict_t *d);
dict_entry_t *dict_volatile_at(const dict_t *d, size_t i);
dict_entry_t *dict_volatile_random(dict_t *d);

/* Reverse-binary cursor scan (as Redis's dictScan): visits every entry of the
 * bucket(s) at cursor and returns the next cursor, 0 when done. An entry
 * present from the first call to the last is visited at least once, even if
 * the table is resized between calls. fn must not modify the dict. */
typedef void dict_scan_fn(void *arg, dict_entry_t *e);
uint64_t dict_scan(dict_t *d, uint64_t cursor, dict_scan_fn *fn, void *arg);

/* A random entry (NULL when empty), and up to n entries from a random spot
 * (fast, not uniform; for eviction sampling). Returns how many were stored. */
dict_entry_t *dict_random(dict_t *d);
size_t dict_sample(dict_t *d, dict_entry_t **out, size_t n);
/* The dict's random generator, shared with its users (xorshift64*). */
uint64_t dict_rand(dict_t *d);

/* Rehashing. dict_rehash moves up to n buckets and returns 1 while more is
 * left; dict_rehash_us rehashes for about budget_us and starts a pending
 * shrink first. dict_is_rehashing is for tests and INFO. */
int dict_rehash(dict_t *d, int n);
int dict_rehash_us(dict_t *d, uint64_t budget_us);
int dict_is_rehashing(const dict_t *d);
/* Bucket count of both tables (tests, INFO). */
uint64_t dict_buckets(const dict_t *d);

#endif
