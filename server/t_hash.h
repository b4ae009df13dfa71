/* t_hash — the hash type: field -> value, both byte strings (t_hash.c). A
 * hash is one allocation while small (its fields and values packed in it) and
 * a header plus one allocation per field once it is a table; everything it
 * owns is counted as mem_alloc_size() of each allocation (hash_mem).
 *
 * A small hash is reallocated by changes, so hash_set and hash_del take the
 * address of the caller's pointer and may move it. The views they hand out
 * (hfield_t, sv_t) point into the hash and are valid until its next change.
 *
 * The data-structure layer: includes only util.h, buf.h, its sibling t_*.h
 * and system headers; the object module and the commands call it. Nothing
 * here locks: callers hold the partition of the value's key (see db.h). */
#ifndef PERCORE_T_HASH_H
#define PERCORE_T_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "t_htab.h"

/* What both encodings start with (t_hash.c defines the rest). */
typedef struct hash {
    uint8_t small; /* 1: packed pairs (t_hash.c's hash_small_t), 0: table */
    uint8_t pad;
    uint16_t n;    /* small: pairs */
    uint32_t used; /* small: bytes of packed pairs */
} hash_t;

/* A field and its value, as views into the hash. */
typedef struct hfield {
    sv_t f, v;
} hfield_t;

static inline sv_t hf_field(const hfield_t *e) { return e->f; }
static inline sv_t hf_value(const hfield_t *e) { return e->v; }

hash_t *hash_new(void);
void hash_free(hash_t *h);
size_t hash_len(const hash_t *h);
/* OBJECT ENCODING: 1 for the packed encoding ("listpack"). */
static inline int hash_is_small(const hash_t *h) { return h->small; }
/* 1 and the value in *val (when not NULL) if the field exists, else 0. */
int hash_get(const hash_t *h, const char *f, size_t flen, sv_t *val);
/* 1 when the field is new, 0 when its value was replaced. f and v may point
 * into the hash itself. */
int hash_set(hash_t **hp, const char *f, size_t flen, const char *v, size_t vlen);
int hash_del(hash_t **hp, const char *f, size_t flen);
/* Iteration: zero the iterator to start; 0 at the end. No changes meanwhile. */
typedef struct hash_iter {
    size_t i;
    hnode_t *e;
} hash_iter_t;
int hash_next(const hash_t *h, hash_iter_t *it, hfield_t *out);
/* A random field (0 when empty). */
int hash_random(const hash_t *h, hfield_t *out);
/* min(count, len) distinct random fields into out (in iteration order). */
size_t hash_random_distinct(const hash_t *h, hfield_t *out, size_t count);
/* HSCAN: a small hash is visited whole in one call (cursor 0 back), as Redis
 * does for its listpack encoding. */
uint64_t hash_scan(const hash_t *h, uint64_t cursor, void (*fn)(void *, const hfield_t *),
                   void *arg, long long count);

/* Bytes the hash owns (obj_mem). */
size_t hash_mem(const hash_t *h);

#endif
