/* t_htab — the chained hash table of byte-string keys that hashes, sets and
 * sorted sets share (t_htab.c). Entries are the caller's: each starts with an
 * hnode_t header and owns its key bytes.
 *
 * The data-structure layer: includes only util.h, buf.h, its sibling t_*.h
 * and system headers; the object module and the commands call it. Nothing
 * here locks: callers hold the partition of the value's key (see db.h). */
#ifndef PERCORE_T_HTAB_H
#define PERCORE_T_HTAB_H

#include <stddef.h>
#include <stdint.h>

/* The header every table entry starts with; the key bytes are owned by the
 * entry (key points inside the same allocation). */
typedef struct hnode {
    struct hnode *next;
    const char *key;
    size_t klen;
} hnode_t;

/* Power-of-two bucket arrays, grown at load 1 and shrunk at load 1/8. While
 * a resize is in progress b[1] is the new table and b[0]'s buckets below
 * rehashidx have moved there; each insert or unlink moves a few more. Zeroed
 * is empty. Lookups, iteration and scans never move anything. */
typedef struct htab {
    hnode_t **b[2];
    size_t mask[2]; /* buckets - 1 */
    size_t n;       /* entries in both */
    size_t rehashidx;
} htab_t;

hnode_t *htab_find(const htab_t *t, const char *k, size_t n);
/* Link an entry whose key is not in the table yet. */
void htab_insert(htab_t *t, hnode_t *e);
/* Unlink the entry with this key and return it (NULL if absent). */
hnode_t *htab_unlink(htab_t *t, const char *k, size_t n);
/* Put e in the place of old (same key), e.g. after reallocating an entry. */
void htab_replace(htab_t *t, hnode_t *old, hnode_t *e);
/* Bytes of the bucket array. */
size_t htab_mem(const htab_t *t);
/* Free the bucket array (entries are the caller's) and reset. */
void htab_release(htab_t *t);
/* A random entry (NULL when empty): a random non-empty bucket, then a random
 * element of its chain, as Redis's dictGetRandomKey. */
hnode_t *htab_random(const htab_t *t);
/* Reverse-binary cursor scan as Redis's dictScan: visits the bucket at cursor
 * and returns the next cursor (0: done). Every entry present for the whole
 * scan is visited at least once, across resizes. */
typedef void htab_scan_fn(void *arg, hnode_t *e);
uint64_t htab_scan(const htab_t *t, uint64_t cursor, htab_scan_fn *fn, void *arg);
/* One SCAN call's worth from cursor, as Redis: buckets until count entries
 * were visited, or count * 10 buckets, so a sparse table still answers in
 * bounded time; returns the next cursor (0: done). */
uint64_t htab_scan_count(const htab_t *t, uint64_t cursor, long long count, htab_scan_fn *fn,
                         void *arg);
/* Pass each entry to fn (when not NULL), then free() it; release the table. */
void htab_drain(htab_t *t, htab_scan_fn *fn, void *arg);
/* Up to count distinct random entries into out (all of them, in table order,
 * when count >= n); returns how many. O(count) for a small share of the table,
 * one O(n) pass otherwise. */
size_t htab_random_distinct(const htab_t *t, hnode_t **out, size_t count);
/* Iteration in bucket order: start with *bucket = 0, e = NULL. */
hnode_t *htab_next(const htab_t *t, size_t *bucket, hnode_t *e);


#endif
