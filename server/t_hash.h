/* t_hash — the hash type: field -> value, both byte strings (t_hash.c). A
 * hash is one allocation pointed to by obj_t.v.ptr; everything it owns is
 * counted in its `mem` field as mem_alloc_size() of each allocation.
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

typedef struct hfield {
    hnode_t n; /* n.key: the field */
    size_t vlen;
    char data[]; /* field bytes, then value bytes */
} hfield_t;

typedef struct hash {
    int small;     /* array encoding: insertion order, linear search */
    hfield_t **a;  /* small: the fields in order */
    size_t n, cap; /* small */
    htab_t tab;    /* !small */
    size_t mem;
} hash_t;

static inline sv_t hf_field(const hfield_t *e) { return (sv_t){e->n.key, e->n.klen}; }
static inline sv_t hf_value(const hfield_t *e)
{
    return (sv_t){e->data + e->n.klen, e->vlen};
}

hash_t *hash_new(void);
void hash_free(hash_t *h);
size_t hash_len(const hash_t *h);
hfield_t *hash_get(const hash_t *h, const char *f, size_t flen);
/* 1 when the field is new, 0 when its value was replaced. */
int hash_set(hash_t *h, const char *f, size_t flen, const char *v, size_t vlen);
int hash_del(hash_t *h, const char *f, size_t flen);
/* Iteration: i = 0, e = NULL to start; NULL at the end. No changes meanwhile. */
typedef struct hash_iter {
    size_t i;
    hnode_t *e;
} hash_iter_t;
hfield_t *hash_next(const hash_t *h, hash_iter_t *it);
hfield_t *hash_random(const hash_t *h);
/* min(count, len) distinct random fields into out (in iteration order). */
size_t hash_random_distinct(const hash_t *h, hfield_t **out, size_t count);
/* HSCAN: a small hash is visited whole in one call (cursor 0 back), as Redis
 * does for its listpack encoding. */
uint64_t hash_scan(const hash_t *h, uint64_t cursor, void (*fn)(void *, hfield_t *), void *arg,
                   long long count);

/* Bytes the hash owns (obj_mem). */
size_t hash_mem(const hash_t *h);

#endif
