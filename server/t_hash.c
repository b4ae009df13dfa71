/* t_hash — the hash type: field -> value, both byte strings.
 *
 * Two encodings, as Redis 7.0's listpack/hashtable: a small hash (at most
 * HASH_SMALL_ENTRIES fields, fields and values at most HASH_SMALL_VALUE
 * bytes) is an array of entries searched linearly, which keeps insertion
 * order for HGETALL and HSCAN; a larger one moves the same entries into an
 * htab, once and for good. An entry is one allocation: header, field, value.
 * Callers hold the key's partition. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "t_common.h"
#include "t_hash.h"
#include "t_htab.h"
#include "util.h"

static size_t entry_mem(size_t flen, size_t vlen)
{
    return mem_alloc_size(sizeof(hfield_t) + flen + vlen);
}

static hfield_t *entry_new(hash_t *h, const char *f, size_t flen, const char *v, size_t vlen)
{
    hfield_t *e = xmalloc(sizeof *e + flen + vlen);
    e->n.next = NULL;
    e->n.key = e->data;
    e->n.klen = flen;
    e->vlen = vlen;
    if (flen)
        memcpy(e->data, f, flen);
    if (vlen)
        memcpy(e->data + flen, v, vlen);
    h->mem += entry_mem(flen, vlen);
    return e;
}

static void entry_free(hash_t *h, hfield_t *e)
{
    h->mem -= entry_mem(e->n.klen, e->vlen);
    free(e);
}

hash_t *hash_new(void)
{
    hash_t *h = xcalloc(1, sizeof *h);
    h->small = 1;
    h->mem = mem_alloc_size(sizeof *h);
    return h;
}

void hash_free(hash_t *h)
{
    if (!h)
        return;
    if (h->small) {
        for (size_t i = 0; i < h->n; i++)
            free(h->a[i]);
    } else {
        htab_drain(&h->tab, NULL, NULL);
    }
    free(h->a);
    free(h);
}

size_t hash_mem(const hash_t *h)
{
    return h->mem + htab_mem(&h->tab);
}

size_t hash_len(const hash_t *h)
{
    return h->small ? h->n : h->tab.n;
}

static long small_find(const hash_t *h, const char *f, size_t flen)
{
    for (size_t i = 0; i < h->n; i++) {
        const hfield_t *e = h->a[i];
        if (e->n.klen == flen && (flen == 0 || memcmp(e->data, f, flen) == 0))
            return (long)i;
    }
    return -1;
}

hfield_t *hash_get(const hash_t *h, const char *f, size_t flen)
{
    if (h->small) {
        long i = small_find(h, f, flen);
        return i < 0 ? NULL : h->a[i];
    }
    return (hfield_t *)htab_find(&h->tab, f, flen);
}

/* Move every entry of the array into the table: the small encoding ends. */
static void convert(hash_t *h)
{
    for (size_t i = 0; i < h->n; i++)
        htab_insert(&h->tab, &h->a[i]->n);
    h->mem -= mem_alloc_size(h->cap * sizeof *h->a);
    free(h->a);
    h->a = NULL;
    h->n = h->cap = 0;
    h->small = 0;
}

int hash_set(hash_t *h, const char *f, size_t flen, const char *v, size_t vlen)
{
    if (h->small && (flen > HASH_SMALL_VALUE || vlen > HASH_SMALL_VALUE))
        convert(h);
    if (h->small) {
        long i = small_find(h, f, flen);
        if (i >= 0) {
            hfield_t *e = entry_new(h, f, flen, v, vlen);
            entry_free(h, h->a[i]);
            h->a[i] = e;
            return 0;
        }
        if (h->n < HASH_SMALL_ENTRIES) {
            if (h->n == h->cap) {
                size_t ncap = h->cap ? h->cap * 2 : 4;
                if (h->cap)
                    h->mem -= mem_alloc_size(h->cap * sizeof *h->a);
                h->a = xrealloc(h->a, ncap * sizeof *h->a);
                h->cap = ncap;
                h->mem += mem_alloc_size(ncap * sizeof *h->a);
            }
            h->a[h->n++] = entry_new(h, f, flen, v, vlen);
            return 1;
        }
        convert(h);
    }
    hfield_t *old = (hfield_t *)htab_find(&h->tab, f, flen);
    hfield_t *e = entry_new(h, f, flen, v, vlen);
    if (old) {
        htab_replace(&h->tab, &old->n, &e->n);
        entry_free(h, old);
        return 0;
    }
    htab_insert(&h->tab, &e->n);
    return 1;
}

int hash_del(hash_t *h, const char *f, size_t flen)
{
    if (h->small) {
        long i = small_find(h, f, flen);
        if (i < 0)
            return 0;
        entry_free(h, h->a[i]);
        memmove(&h->a[i], &h->a[i + 1], (h->n - (size_t)i - 1) * sizeof *h->a);
        h->n--;
        return 1;
    }
    hnode_t *e = htab_unlink(&h->tab, f, flen);
    if (!e)
        return 0;
    entry_free(h, (hfield_t *)e);
    return 1;
}

hfield_t *hash_next(const hash_t *h, hash_iter_t *it)
{
    if (h->small)
        return it->i < h->n ? h->a[it->i++] : NULL;
    it->e = htab_next(&h->tab, &it->i, it->e);
    return (hfield_t *)it->e;
}

hfield_t *hash_random(const hash_t *h)
{
    if (h->small)
        return h->n ? h->a[t_rand() % h->n] : NULL;
    return (hfield_t *)htab_random(&h->tab);
}

size_t hash_random_distinct(const hash_t *h, hfield_t **out, size_t count)
{
    if (!h->small)
        return htab_random_distinct(&h->tab, (hnode_t **)out, count);
    size_t idx[HASH_SMALL_ENTRIES];
    size_t got = rand_distinct_indexes(h->n, idx, count);
    for (size_t i = 0; i < got; i++)
        out[i] = h->a[idx[i]];
    return got;
}

struct scan_cb {
    void (*fn)(void *, hfield_t *);
    void *arg;
};

static void scan_node(void *arg, hnode_t *e)
{
    struct scan_cb *s = arg;
    s->fn(s->arg, (hfield_t *)e);
}

uint64_t hash_scan(const hash_t *h, uint64_t cursor, void (*fn)(void *, hfield_t *), void *arg,
                   long long count)
{
    if (h->small) {
        for (size_t i = 0; i < h->n; i++)
            fn(arg, h->a[i]);
        return 0;
    }
    struct scan_cb s = {fn, arg};
    return htab_scan_count(&h->tab, cursor, count, scan_node, &s);
}
