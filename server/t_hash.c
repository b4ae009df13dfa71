/* t_hash — the hash type: field -> value, both byte strings.
 *
 * Two encodings, as Redis 7.0's listpack/hashtable: a small hash (at most
 * HASH_SMALL_ENTRIES fields, fields and values at most HASH_SMALL_VALUE
 * bytes) is one allocation, the hash_t header then its pairs packed in
 * insertion order, each "flen vlen field value" with one-byte lengths,
 * searched linearly and reallocated to its exact size on every change; a
 * larger one moves its pairs into an htab of one allocation per pair (node
 * header, field, value), once and for good. Callers hold the key's
 * partition. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "t_common.h"
#include "t_hash.h"
#include "t_htab.h"
#include "util.h"

_Static_assert(HASH_SMALL_VALUE <= UINT8_MAX, "small lengths are one byte");
_Static_assert(HASH_SMALL_ENTRIES <= UINT16_MAX, "small count is 16 bits");

typedef struct hash_small {
    hash_t hdr;
    unsigned char data[];
} hash_small_t;

typedef struct hash_big {
    hash_t hdr;
    htab_t tab;
    size_t mem; /* the header and the nodes (htab_mem adds the buckets) */
} hash_big_t;

typedef struct hnode_kv {
    hnode_t n; /* n.key: the field */
    size_t vlen;
    char data[]; /* field bytes, then value bytes */
} hnode_kv_t;

static hash_small_t *SM(const hash_t *h) { return (hash_small_t *)h; }
static hash_big_t *BG(const hash_t *h) { return (hash_big_t *)h; }

static size_t small_bytes(size_t used) { return sizeof(hash_small_t) + used; }

/* ---- table nodes --------------------------------------------------------- */

static size_t node_mem(size_t flen, size_t vlen)
{
    return mem_alloc_size(sizeof(hnode_kv_t) + flen + vlen);
}

static hnode_kv_t *node_new(hash_big_t *b, const char *f, size_t flen, const char *v, size_t vlen)
{
    hnode_kv_t *e = xmalloc(sizeof *e + flen + vlen);
    e->n.next = NULL;
    e->n.key = e->data;
    e->n.klen = flen;
    e->vlen = vlen;
    if (flen)
        memcpy(e->data, f, flen);
    if (vlen)
        memcpy(e->data + flen, v, vlen);
    b->mem += node_mem(flen, vlen);
    return e;
}

static void node_free(hash_big_t *b, hnode_kv_t *e)
{
    b->mem -= node_mem(e->n.klen, e->vlen);
    free(e);
}

static void node_view(const hnode_t *n, hfield_t *out)
{
    const hnode_kv_t *e = (const hnode_kv_t *)n;
    out->f = (sv_t){e->data, e->n.klen};
    out->v = (sv_t){e->data + e->n.klen, e->vlen};
}

/* ---- the packed pairs ---------------------------------------------------- */

/* The pair at byte offset off of a small hash; returns the next offset. */
static size_t pair_at(const hash_small_t *s, size_t off, hfield_t *out)
{
    const unsigned char *p = s->data + off;
    size_t flen = p[0], vlen = p[1];
    out->f = (sv_t){(const char *)p + 2, flen};
    out->v = (sv_t){(const char *)p + 2 + flen, vlen};
    return off + 2 + flen + vlen;
}

/* Offset of field f's pair, or -1. */
static long small_find(const hash_small_t *s, const char *f, size_t flen)
{
    size_t off = 0;
    while (off < s->hdr.used) {
        const unsigned char *p = s->data + off;
        if (p[0] == flen && (flen == 0 || memcmp(p + 2, f, flen) == 0))
            return (long)off;
        off += 2 + (size_t)p[0] + p[1];
    }
    return -1;
}

/* Move the bytes from offset `from` on to offset `to`, resizing the buffer
 * (used changes by to - from); returns the moved hash. */
static hash_small_t *small_shift(hash_small_t *s, size_t from, size_t to)
{
    size_t used = s->hdr.used, tail = used - from, nused = used - from + to;
    if (nused < used)
        memmove(s->data + to, s->data + from, tail);
    if (nused != used)
        s = xrealloc(s, small_bytes(nused));
    if (nused > used)
        memmove(s->data + to, s->data + from, tail);
    s->hdr.used = (uint32_t)nused;
    return s;
}

hash_t *hash_new(void)
{
    hash_small_t *s = xmalloc(small_bytes(0));
    memset(s, 0, sizeof *s);
    s->hdr.small = 1;
    return &s->hdr;
}

void hash_free(hash_t *h)
{
    if (!h)
        return;
    if (!h->small)
        htab_drain(&BG(h)->tab, NULL, NULL);
    free(h);
}

size_t hash_mem(const hash_t *h)
{
    if (h->small)
        return mem_alloc_size(small_bytes(h->used));
    return BG(h)->mem + htab_mem(&BG(h)->tab);
}

size_t hash_len(const hash_t *h)
{
    return h->small ? h->n : BG(h)->tab.n;
}

int hash_get(const hash_t *h, const char *f, size_t flen, sv_t *val)
{
    hfield_t kv;
    if (h->small) {
        long off = flen <= HASH_SMALL_VALUE ? small_find(SM(h), f, flen) : -1;
        if (off < 0)
            return 0;
        pair_at(SM(h), (size_t)off, &kv);
    } else {
        hnode_t *n = htab_find(&BG(h)->tab, f, flen);
        if (!n)
            return 0;
        node_view(n, &kv);
    }
    if (val)
        *val = kv.v;
    return 1;
}

/* Move every pair into a table: the small encoding ends. */
static hash_big_t *convert(hash_small_t *s)
{
    hash_big_t *b = xcalloc(1, sizeof *b);
    b->mem = mem_alloc_size(sizeof *b);
    hfield_t kv;
    for (size_t off = 0; off < s->hdr.used;) {
        off = pair_at(s, off, &kv);
        htab_insert(&b->tab, &node_new(b, kv.f.p, kv.f.len, kv.v.p, kv.v.len)->n);
    }
    free(s);
    return b;
}

/* hash_set on a small hash that stays small (flen, vlen <= HASH_SMALL_VALUE):
 * 1 new, 0 replaced, -1 full (the caller converts). */
static int small_set(hash_t **hp, const char *f, size_t flen, const char *v, size_t vlen)
{
    /* copies first: f and v may point into the buffer that moves */
    char fb[HASH_SMALL_VALUE], vb[HASH_SMALL_VALUE];
    if (flen)
        memcpy(fb, f, flen);
    if (vlen)
        memcpy(vb, v, vlen);
    hash_small_t *s = SM(*hp);
    long off = small_find(s, fb, flen);
    int added = off < 0;
    size_t at;
    if (off >= 0) {
        at = (size_t)off + 2 + flen; /* the old value */
        size_t ovlen = s->data[off + 1];
        s = small_shift(s, at + ovlen, at + vlen);
        s->data[off + 1] = (unsigned char)vlen;
    } else {
        if (s->hdr.n >= HASH_SMALL_ENTRIES)
            return -1;
        size_t end = s->hdr.used;
        s = small_shift(s, end, end + 2 + flen + vlen);
        s->data[end] = (unsigned char)flen;
        s->data[end + 1] = (unsigned char)vlen;
        if (flen)
            memcpy(s->data + end + 2, fb, flen);
        at = end + 2 + flen;
        s->hdr.n++;
    }
    if (vlen)
        memcpy(s->data + at, vb, vlen);
    *hp = &s->hdr;
    return added;
}

int hash_set(hash_t **hp, const char *f, size_t flen, const char *v, size_t vlen)
{
    if ((*hp)->small) {
        if (flen <= HASH_SMALL_VALUE && vlen <= HASH_SMALL_VALUE) {
            int r = small_set(hp, f, flen, v, vlen);
            if (r >= 0)
                return r;
        }
        /* too long or too many: f/v may be in the small buffer, so keep it
         * until the new node has copied them */
        hash_small_t *s = SM(*hp);
        long off = flen <= HASH_SMALL_VALUE ? small_find(s, f, flen) : -1;
        char *tmp = xmalloc(flen + vlen + 1);
        if (flen)
            memcpy(tmp, f, flen);
        if (vlen)
            memcpy(tmp + flen, v, vlen);
        if (off >= 0) {
            size_t ovlen = s->data[off + 1];
            s = small_shift(s, (size_t)off + 2 + flen + ovlen, (size_t)off);
            s->hdr.n--;
        }
        hash_big_t *b = convert(s);
        htab_insert(&b->tab, &node_new(b, tmp, flen, tmp + flen, vlen)->n);
        free(tmp);
        *hp = &b->hdr;
        return off < 0;
    }
    hash_big_t *b = BG(*hp);
    hnode_kv_t *old = (hnode_kv_t *)htab_find(&b->tab, f, flen);
    hnode_kv_t *e = node_new(b, f, flen, v, vlen);
    if (old) {
        htab_replace(&b->tab, &old->n, &e->n);
        node_free(b, old);
        return 0;
    }
    htab_insert(&b->tab, &e->n);
    return 1;
}

int hash_del(hash_t **hp, const char *f, size_t flen)
{
    if ((*hp)->small) {
        hash_small_t *s = SM(*hp);
        long off = flen <= HASH_SMALL_VALUE ? small_find(s, f, flen) : -1;
        if (off < 0)
            return 0;
        size_t end = (size_t)off + 2 + flen + s->data[off + 1];
        s = small_shift(s, end, (size_t)off);
        s->hdr.n--;
        *hp = &s->hdr;
        return 1;
    }
    hash_big_t *b = BG(*hp);
    hnode_t *e = htab_unlink(&b->tab, f, flen);
    if (!e)
        return 0;
    node_free(b, (hnode_kv_t *)e);
    return 1;
}

int hash_next(const hash_t *h, hash_iter_t *it, hfield_t *out)
{
    if (h->small) {
        if (it->i >= h->used)
            return 0;
        it->i = pair_at(SM(h), it->i, out);
        return 1;
    }
    it->e = htab_next(&BG(h)->tab, &it->i, it->e);
    if (!it->e)
        return 0;
    node_view(it->e, out);
    return 1;
}

/* The pair with index k (0-based) of a small hash. */
static void small_nth(const hash_small_t *s, size_t k, hfield_t *out)
{
    size_t off = 0;
    do
        off = pair_at(s, off, out);
    while (k--);
}

int hash_random(const hash_t *h, hfield_t *out)
{
    if (h->small) {
        if (!h->n)
            return 0;
        small_nth(SM(h), t_rand() % h->n, out);
        return 1;
    }
    hnode_t *n = htab_random(&BG(h)->tab);
    if (!n)
        return 0;
    node_view(n, out);
    return 1;
}

size_t hash_random_distinct(const hash_t *h, hfield_t *out, size_t count)
{
    if (!h->small) {
        hnode_t **nodes = xmalloc((count ? count : 1) * sizeof *nodes);
        size_t got = htab_random_distinct(&BG(h)->tab, nodes, count);
        for (size_t i = 0; i < got; i++)
            node_view(nodes[i], &out[i]);
        free(nodes);
        return got;
    }
    size_t idx[HASH_SMALL_ENTRIES];
    size_t got = rand_distinct_indexes(h->n, idx, count);
    /* idx ascends: one walk */
    size_t off = 0, k = 0;
    hfield_t kv;
    for (size_t i = 0; i < got; k++) {
        off = pair_at(SM(h), off, &kv);
        if (idx[i] == k)
            out[i++] = kv;
    }
    return got;
}

struct scan_cb {
    void (*fn)(void *, const hfield_t *);
    void *arg;
};

static void scan_node(void *arg, hnode_t *e)
{
    struct scan_cb *s = arg;
    hfield_t kv;
    node_view(e, &kv);
    s->fn(s->arg, &kv);
}

uint64_t hash_scan(const hash_t *h, uint64_t cursor, void (*fn)(void *, const hfield_t *),
                   void *arg, long long count)
{
    if (h->small) {
        hfield_t kv;
        for (size_t off = 0; off < h->used;) {
            off = pair_at(SM(h), off, &kv);
            fn(arg, &kv);
        }
        return 0;
    }
    struct scan_cb s = {fn, arg};
    return htab_scan_count(&BG(h)->tab, cursor, count, scan_node, &s);
}
