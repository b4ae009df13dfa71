/* t_list — the list type: a ring of byte strings (t_list.c). A list is one
 * allocation pointed to by obj_t.v.ptr; everything it owns is counted in its
 * `mem` field as mem_alloc_size() of each allocation.
 *
 * The data-structure layer: includes only util.h, buf.h, its sibling t_*.h
 * and system headers; the object module and the commands call it. Nothing
 * here locks: callers hold the partition of the value's key (see db.h). */
#ifndef PERCORE_T_LIST_H
#define PERCORE_T_LIST_H

#include <stddef.h>

#include "buf.h"

typedef struct lelem {
    size_t len;
    char p[];
} lelem_t;

typedef struct list {
    lelem_t **a; /* ring; capacity a power of two */
    size_t cap, head, n;
    size_t mem;
} list_t;

enum { LIST_HEAD = 0, LIST_TAIL = 1 };

list_t *list_new(void);
void list_free(list_t *l);
static inline size_t list_len(const list_t *l) { return l->n; }
static inline lelem_t *list_elem(const list_t *l, size_t i)
{
    return l->a[(l->head + i) & (l->cap - 1)];
}
static inline sv_t list_at(const list_t *l, size_t i)
{
    lelem_t *e = list_elem(l, i);
    return (sv_t){e->p, e->len};
}
void list_push(list_t *l, int where, const char *p, size_t n);
/* Detach / attach an element without copying it (LMOVE); the element's
 * memory leaves one list's account and enters the other's. */
lelem_t *list_pop(list_t *l, int where);
void list_push_elem(list_t *l, int where, lelem_t *e);
void lelem_free(lelem_t *e);
void list_set(list_t *l, size_t i, const char *p, size_t n);
/* Insert before logical position i (i == len appends). */
void list_insert(list_t *l, size_t i, const char *p, size_t n);
/* Keep only elements [start, start+count). */
void list_trim(list_t *l, size_t start, size_t count);
/* LREM: remove up to count (0: all) elements equal to p, from the head, or
 * from the tail when from_tail; returns how many. */
size_t list_remove_matching(list_t *l, const char *p, size_t n, size_t count, int from_tail);

/* Bytes the list owns (obj_mem). */
size_t list_mem(const list_t *l);

#endif
