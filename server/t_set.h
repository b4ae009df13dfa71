/* t_set — the set type: members, as a sorted int array or a table (t_set.c).
 * A set is one allocation pointed to by obj_t.v.ptr; everything it owns is
 * counted in its `mem` field as mem_alloc_size() of each allocation.
 *
 * The data-structure layer: includes only util.h, buf.h, its sibling t_*.h
 * and system headers; the object module and the commands call it. Nothing
 * here locks: callers hold the partition of the value's key (see db.h). */
#ifndef PERCORE_T_SET_H
#define PERCORE_T_SET_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "t_htab.h"

typedef struct smember {
    hnode_t n;
    char p[];
} smember_t;

typedef struct set {
    int ints;          /* every member is an integer (as Redis's intset) */
    int64_t *iv;       /* ints: sorted */
    size_t n, cap;     /* ints */
    htab_t tab;        /* !ints */
    size_t mem;
} set_t;

set_t *set_new(void);
void set_free(set_t *s);
size_t set_len(const set_t *s);
int set_add(set_t *s, const char *p, size_t n);    /* 1 if added */
int set_remove(set_t *s, const char *p, size_t n); /* 1 if removed */
int set_has(const set_t *s, const char *p, size_t n);
/* Iteration; a member of an int set is formatted into it->tmp. */
typedef struct set_iter {
    size_t i;
    hnode_t *e;
    char tmp[24];
} set_iter_t;
int set_next(const set_t *s, set_iter_t *it, sv_t *out);
/* A random member (the set is not empty), formatted into tmp when needed. */
sv_t set_random(const set_t *s, char tmp[24]);
/* min(count, len) distinct random members, copied into items as scan_push
 * does (length-prefixed); returns how many. */
size_t set_random_distinct(const set_t *s, size_t count, buf_t *items);
uint64_t set_scan(const set_t *s, uint64_t cursor, void (*fn)(void *, sv_t), void *arg,
                  long long count);

/* Bytes the set owns (obj_mem). */
size_t set_mem(const set_t *s);

#endif
