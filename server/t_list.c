/* t_list — the list type: a power-of-two ring of pointers to byte strings.
 *
 * Push and pop at both ends are O(1) amortized, indexing is O(1), and an
 * insertion or removal in the middle moves the shorter side's pointers only.
 * The ring shrinks when it is a quarter full so a drained list returns its
 * memory. Callers hold the key's partition. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "t_list.h"
#include "util.h"

#define LIST_MIN_CAP 8

static size_t elem_mem(size_t len)
{
    return mem_alloc_size(sizeof(lelem_t) + len);
}

static lelem_t *elem_new(list_t *l, const char *p, size_t n)
{
    lelem_t *e = xmalloc(sizeof *e + n);
    e->len = n;
    if (n)
        memcpy(e->p, p, n);
    l->mem += elem_mem(n);
    return e;
}

void lelem_free(lelem_t *e)
{
    free(e);
}

list_t *list_new(void)
{
    list_t *l = xcalloc(1, sizeof *l);
    l->mem = mem_alloc_size(sizeof *l);
    return l;
}

void list_free(list_t *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(list_elem(l, i));
    free(l->a);
    free(l);
}

size_t list_mem(const list_t *l)
{
    return l->mem;
}

static lelem_t **slot(list_t *l, size_t i)
{
    return &l->a[(l->head + i) & (l->cap - 1)];
}

/* Move the ring into a new array of ncap slots, element 0 first. */
static void resize(list_t *l, size_t ncap)
{
    lelem_t **na = xmalloc(ncap * sizeof *na);
    for (size_t i = 0; i < l->n; i++)
        na[i] = list_elem(l, i);
    if (l->a)
        l->mem -= mem_alloc_size(l->cap * sizeof *l->a);
    free(l->a);
    l->a = na;
    l->cap = ncap;
    l->head = 0;
    l->mem += mem_alloc_size(ncap * sizeof *na);
}

static void grow_for_one(list_t *l)
{
    if (l->n == l->cap)
        resize(l, l->cap ? l->cap * 2 : LIST_MIN_CAP);
}

static void maybe_shrink(list_t *l)
{
    if (l->n == 0) {
        l->mem -= l->a ? mem_alloc_size(l->cap * sizeof *l->a) : 0;
        free(l->a);
        l->a = NULL;
        l->cap = l->head = 0;
    } else if (l->cap > LIST_MIN_CAP && l->n < l->cap / 4) {
        resize(l, l->cap / 2);
    }
}

void list_push_elem(list_t *l, int where, lelem_t *e)
{
    grow_for_one(l);
    if (where == LIST_HEAD) {
        l->head = (l->head + l->cap - 1) & (l->cap - 1);
        l->a[l->head] = e;
    } else {
        *slot(l, l->n) = e;
    }
    l->n++;
    l->mem += elem_mem(e->len);
}

void list_push(list_t *l, int where, const char *p, size_t n)
{
    lelem_t *e = elem_new(l, p, n);
    l->mem -= elem_mem(n); /* list_push_elem counts it */
    list_push_elem(l, where, e);
}

lelem_t *list_pop(list_t *l, int where)
{
    lelem_t *e;

    if (l->n == 0)
        return NULL;
    if (where == LIST_HEAD) {
        e = l->a[l->head];
        l->head = (l->head + 1) & (l->cap - 1);
    } else {
        e = *slot(l, l->n - 1);
    }
    l->n--;
    l->mem -= elem_mem(e->len);
    maybe_shrink(l);
    return e;
}

void list_set(list_t *l, size_t i, const char *p, size_t n)
{
    lelem_t **s = slot(l, i);
    lelem_t *e = elem_new(l, p, n);
    l->mem -= elem_mem((*s)->len);
    free(*s);
    *s = e;
}

void list_insert(list_t *l, size_t i, const char *p, size_t n)
{
    lelem_t *e = elem_new(l, p, n);

    grow_for_one(l);
    if (i < l->n / 2) {
        /* Shift elements [0, i) one slot toward the head. */
        l->head = (l->head + l->cap - 1) & (l->cap - 1);
        for (size_t k = 0; k < i; k++)
            *slot(l, k) = *slot(l, k + 1);
    } else {
        for (size_t k = l->n; k > i; k--)
            *slot(l, k) = *slot(l, k - 1);
    }
    *slot(l, i) = e;
    l->n++;
}

void list_trim(list_t *l, size_t start, size_t count)
{
    for (size_t k = 0; k < l->n; k++) {
        if (k < start || k >= start + count) {
            lelem_t *e = list_elem(l, k);
            l->mem -= elem_mem(e->len);
            free(e);
        }
    }
    l->head = (l->head + start) & (l->cap - 1);
    l->n = count;
    maybe_shrink(l);
}

size_t list_remove_matching(list_t *l, const char *p, size_t n, size_t count, int from_tail)
{
    size_t removed = 0, w = 0, len = l->n;

    /* One compaction pass in the direction of the search: kept elements
     * slide over the removed ones, so the whole LREM is O(len). */
    for (size_t r = 0; r < len; r++) {
        size_t ri = from_tail ? len - 1 - r : r;
        lelem_t *e = list_elem(l, ri);
        if ((count == 0 || removed < count) && e->len == n && (n == 0 || memcmp(e->p, p, n) == 0)) {
            l->mem -= elem_mem(e->len);
            free(e);
            removed++;
            continue;
        }
        *slot(l, from_tail ? len - 1 - w : w) = e;
        w++;
    }
    if (from_tail)
        l->head = (l->head + removed) & (l->cap - 1);
    l->n = len - removed;
    if (removed)
        maybe_shrink(l);
    return removed;
}
