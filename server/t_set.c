/* t_set — the set type: unique byte-string members.
 *
 * Two encodings, as Redis 7.0's intset/hashtable: while every member is an
 * integer in Redis's canonical form and there are at most SET_INTS_ENTRIES of
 * them, the set is a sorted int64 array (binary search, members come out in
 * numeric order); otherwise an htab of members, converted once and for good.
 * Callers hold the key's partition. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "t_common.h"
#include "t_htab.h"
#include "t_set.h"
#include "util.h"

static size_t member_mem(size_t n)
{
    return mem_alloc_size(sizeof(smember_t) + n);
}

set_t *set_new(void)
{
    set_t *s = xcalloc(1, sizeof *s);
    s->ints = 1;
    s->mem = mem_alloc_size(sizeof *s);
    return s;
}

void set_free(set_t *s)
{
    if (!s)
        return;
    if (!s->ints) {
        htab_drain(&s->tab, NULL, NULL);
    }
    free(s->iv);
    free(s);
}

size_t set_mem(const set_t *s)
{
    return s->mem + htab_mem(&s->tab);
}

size_t set_len(const set_t *s)
{
    return s->ints ? s->n : s->tab.n;
}

/* Index of v in the int array, or -(insertion point) - 1. */
static long ints_search(const set_t *s, int64_t v)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->iv[mid] < v)
            lo = mid + 1;
        else if (s->iv[mid] > v)
            hi = mid;
        else
            return (long)mid;
    }
    return -(long)lo - 1;
}

static void tab_add(set_t *s, const char *p, size_t n)
{
    smember_t *m = xmalloc(sizeof *m + n);
    m->n.key = m->p;
    m->n.klen = n;
    if (n)
        memcpy(m->p, p, n);
    htab_insert(&s->tab, &m->n);
    s->mem += member_mem(n);
}

static void convert(set_t *s)
{
    char tmp[24];
    for (size_t i = 0; i < s->n; i++) {
        int len = ll_to_str(tmp, s->iv[i]);
        tab_add(s, tmp, (size_t)len);
    }
    if (s->iv)
        s->mem -= mem_alloc_size(s->cap * sizeof *s->iv);
    free(s->iv);
    s->iv = NULL;
    s->n = s->cap = 0;
    s->ints = 0;
}

int set_add(set_t *s, const char *p, size_t n)
{
    long long v;

    if (s->ints) {
        if (str_to_ll(p, n, &v) == 0) {
            long i = ints_search(s, v);
            if (i >= 0)
                return 0;
            if (s->n < SET_INTS_ENTRIES) {
                size_t at = (size_t)(-i - 1);
                if (s->n == s->cap) {
                    size_t ncap = s->cap ? s->cap * 2 : 4;
                    if (s->cap)
                        s->mem -= mem_alloc_size(s->cap * sizeof *s->iv);
                    s->iv = xrealloc(s->iv, ncap * sizeof *s->iv);
                    s->cap = ncap;
                    s->mem += mem_alloc_size(ncap * sizeof *s->iv);
                }
                memmove(&s->iv[at + 1], &s->iv[at], (s->n - at) * sizeof *s->iv);
                s->iv[at] = v;
                s->n++;
                return 1;
            }
        }
        convert(s);
    }
    if (htab_find(&s->tab, p, n))
        return 0;
    tab_add(s, p, n);
    return 1;
}

int set_remove(set_t *s, const char *p, size_t n)
{
    long long v;

    if (s->ints) {
        if (str_to_ll(p, n, &v) != 0)
            return 0;
        long i = ints_search(s, v);
        if (i < 0)
            return 0;
        memmove(&s->iv[i], &s->iv[i + 1], (s->n - (size_t)i - 1) * sizeof *s->iv);
        s->n--;
        return 1;
    }
    hnode_t *e = htab_unlink(&s->tab, p, n);
    if (!e)
        return 0;
    s->mem -= member_mem(e->klen);
    free(e);
    return 1;
}

int set_has(const set_t *s, const char *p, size_t n)
{
    long long v;

    if (s->ints)
        return str_to_ll(p, n, &v) == 0 && ints_search(s, v) >= 0;
    return htab_find(&s->tab, p, n) != NULL;
}

int set_next(const set_t *s, set_iter_t *it, sv_t *out)
{
    if (s->ints) {
        if (it->i >= s->n)
            return 0;
        int len = ll_to_str(it->tmp, s->iv[it->i++]);
        *out = (sv_t){it->tmp, (size_t)len};
        return 1;
    }
    it->e = htab_next(&s->tab, &it->i, it->e);
    if (!it->e)
        return 0;
    *out = (sv_t){it->e->key, it->e->klen};
    return 1;
}

sv_t set_random(const set_t *s, char tmp[24])
{
    if (s->ints) {
        int len = ll_to_str(tmp, s->iv[t_rand() % s->n]);
        return (sv_t){tmp, (size_t)len};
    }
    hnode_t *e = htab_random(&s->tab);
    return (sv_t){e->key, e->klen};
}

size_t set_random_distinct(const set_t *s, size_t count, buf_t *items)
{
    size_t n = set_len(s), want = count < n ? count : n, got;

    if (s->ints) {
        size_t *idx = xmalloc((want ? want : 1) * sizeof *idx);
        char tmp[24];
        got = rand_distinct_indexes(n, idx, want);
        for (size_t i = 0; i < got; i++) {
            int len = ll_to_str(tmp, s->iv[idx[i]]);
            scan_push(items, tmp, (size_t)len);
        }
        free(idx);
        return got;
    }
    hnode_t **pick = xmalloc((want ? want : 1) * sizeof *pick);
    got = htab_random_distinct(&s->tab, pick, want);
    for (size_t i = 0; i < got; i++)
        scan_push(items, pick[i]->key, pick[i]->klen);
    free(pick);
    return got;
}

struct scan_cb {
    void (*fn)(void *, sv_t);
    void *arg;
};

static void scan_node(void *arg, hnode_t *e)
{
    struct scan_cb *sc = arg;
    sc->fn(sc->arg, (sv_t){e->key, e->klen});
}

uint64_t set_scan(const set_t *s, uint64_t cursor, void (*fn)(void *, sv_t), void *arg,
                  long long count)
{
    if (s->ints) {
        /* An int set is answered whole, as Redis does for its intset. */
        char tmp[24];
        for (size_t i = 0; i < s->n; i++) {
            int len = ll_to_str(tmp, s->iv[i]);
            fn(arg, (sv_t){tmp, (size_t)len});
        }
        return 0;
    }
    struct scan_cb sc = {fn, arg};
    return htab_scan_count(&s->tab, cursor, count, scan_node, &sc);
}
