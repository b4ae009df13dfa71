/* t_stream_cg — a stream's consumer groups, consumers and pending-entries
 * lists as sorted vectors (t_stream.h), and Redis 7.0's entries-read / lag
 * bookkeeping. Callers hold the partition of the stream's key. */
#include <stdlib.h>
#include <string.h>

#include "t_stream.h"
#include "util.h"

/* ---- sorted pointer vectors ---------------------------------------------- */

static void vec_grow(void ***v, size_t n, size_t *cap, size_t *mem)
{
    if (n < *cap)
        return;
    size_t before = *cap ? mem_alloc_size(*cap * sizeof(void *)) : 0;
    *cap = *cap ? *cap * 2 : 4;
    *v = xrealloc(*v, *cap * sizeof(void *));
    *mem += mem_alloc_size(*cap * sizeof(void *)) - before;
}

static void vec_ins(void ***v, size_t *n, size_t *cap, size_t *mem, size_t at, void *x)
{
    vec_grow(v, *n, cap, mem);
    memmove(*v + at + 1, *v + at, (*n - at) * sizeof(void *));
    (*v)[at] = x;
    (*n)++;
}

static void vec_del(void **v, size_t *n, size_t at)
{
    memmove(v + at, v + at + 1, (*n - at - 1) * sizeof(void *));
    (*n)--;
}

static int name_cmp(const char *a, size_t al, sv_t b)
{
    size_t m = al < b.len ? al : b.len;
    int c = m ? memcmp(a, b.p, m) : 0;
    if (c)
        return c;
    return al < b.len ? -1 : al > b.len;
}

/* Index of the first element whose name >= name; *found when equal. */
#define NAME_LOWER(vec, n, name, found)                                                        \
    ({                                                                                         \
        size_t lo_ = 0, hi_ = (n);                                                             \
        while (lo_ < hi_) {                                                                    \
            size_t mid_ = (lo_ + hi_) / 2;                                                     \
            if (name_cmp((vec)[mid_]->name, (vec)[mid_]->nlen, (name)) < 0)                    \
                lo_ = mid_ + 1;                                                                \
            else                                                                               \
                hi_ = mid_;                                                                    \
        }                                                                                      \
        *(found) = lo_ < (n) && name_cmp((vec)[lo_]->name, (vec)[lo_]->nlen, (name)) == 0;     \
        lo_;                                                                                   \
    })

size_t stream_pel_lower(snack_t *const *pel, size_t n, sid_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (sid_cmp(pel[mid]->id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ---- groups ---------------------------------------------------------------- */

scgroup_t *stream_group_find(const stream_t *s, sv_t name)
{
    int found;
    size_t i = NAME_LOWER(s->groups, s->ngroups, name, &found);
    return found ? s->groups[i] : NULL;
}

scgroup_t *stream_group_create(stream_t *s, sv_t name, sid_t last_id, int64_t entries_read)
{
    int found;
    size_t i = NAME_LOWER(s->groups, s->ngroups, name, &found);
    if (found)
        return NULL;
    scgroup_t *g = xcalloc(1, sizeof *g);
    g->name = xmalloc(name.len + 1);
    if (name.len) /* an empty name may come with no buffer (RESTORE of a stream) */
        memcpy(g->name, name.p, name.len);
    g->name[name.len] = 0;
    g->nlen = name.len;
    g->last_id = last_id;
    g->entries_read = entries_read;
    s->mem += mem_alloc_size(sizeof *g) + mem_alloc_size(name.len + 1);
    vec_ins((void ***)&s->groups, &s->ngroups, &s->gcap, &s->mem, i, g);
    return g;
}

static size_t consumer_mem(const sconsumer_t *c)
{
    return mem_alloc_size(sizeof *c) + mem_alloc_size(c->nlen + 1) +
           (c->pcap ? mem_alloc_size(c->pcap * sizeof(void *)) : 0);
}

static size_t group_free(scgroup_t *g)
{
    size_t mem = mem_alloc_size(sizeof *g) + mem_alloc_size(g->nlen + 1);
    for (size_t i = 0; i < g->npel; i++)
        free(g->pel[i]);
    mem += g->npel * mem_alloc_size(sizeof(snack_t));
    if (g->pcap)
        mem += mem_alloc_size(g->pcap * sizeof(void *));
    for (size_t i = 0; i < g->nconsumers; i++) {
        sconsumer_t *c = g->consumers[i];
        mem += consumer_mem(c);
        free(c->pel);
        free(c->name);
        free(c);
    }
    if (g->ccap)
        mem += mem_alloc_size(g->ccap * sizeof(void *));
    free(g->consumers);
    free(g->pel);
    free(g->name);
    free(g);
    return mem;
}

int stream_group_destroy(stream_t *s, sv_t name)
{
    int found;
    size_t i = NAME_LOWER(s->groups, s->ngroups, name, &found);
    if (!found)
        return 0;
    s->mem -= group_free(s->groups[i]);
    vec_del((void **)s->groups, &s->ngroups, i);
    return 1;
}

void stream_groups_free(stream_t *s)
{
    for (size_t i = 0; i < s->ngroups; i++)
        group_free(s->groups[i]);
    free(s->groups);
    s->groups = NULL;
    s->ngroups = s->gcap = 0;
}

/* ---- consumers ------------------------------------------------------------- */

sconsumer_t *stream_consumer_find(const scgroup_t *g, sv_t name)
{
    int found;
    size_t i = NAME_LOWER(g->consumers, g->nconsumers, name, &found);
    return found ? g->consumers[i] : NULL;
}

sconsumer_t *stream_consumer_create(stream_t *s, scgroup_t *g, sv_t name, uint64_t now_ms)
{
    int found;
    size_t i = NAME_LOWER(g->consumers, g->nconsumers, name, &found);
    if (found)
        return NULL;
    sconsumer_t *c = xcalloc(1, sizeof *c);
    c->name = xmalloc(name.len + 1);
    if (name.len)
        memcpy(c->name, name.p, name.len);
    c->name[name.len] = 0;
    c->nlen = name.len;
    c->seen_time = now_ms;
    s->mem += consumer_mem(c);
    vec_ins((void ***)&g->consumers, &g->nconsumers, &g->ccap, &s->mem, i, c);
    return c;
}

static void consumer_pel_del(sconsumer_t *c, sid_t id)
{
    size_t i = stream_pel_lower(c->pel, c->npel, id);
    if (i < c->npel && sid_cmp(c->pel[i]->id, id) == 0)
        vec_del((void **)c->pel, &c->npel, i);
}

uint64_t stream_consumer_delete(stream_t *s, scgroup_t *g, sv_t name)
{
    int found;
    size_t i = NAME_LOWER(g->consumers, g->nconsumers, name, &found);
    if (!found)
        return 0;
    sconsumer_t *c = g->consumers[i];
    uint64_t pending = c->npel;
    while (c->npel)
        stream_pel_remove(s, g, c->pel[c->npel - 1]);
    s->mem -= consumer_mem(c);
    free(c->pel);
    free(c->name);
    free(c);
    vec_del((void **)g->consumers, &g->nconsumers, i);
    return pending;
}

/* ---- pending entries ------------------------------------------------------- */

snack_t *stream_pel_find(const scgroup_t *g, sid_t id)
{
    size_t i = stream_pel_lower(g->pel, g->npel, id);
    return i < g->npel && sid_cmp(g->pel[i]->id, id) == 0 ? g->pel[i] : NULL;
}

/* Insert n into a sorted PEL (appends are the common case). */
static void pel_insert(snack_t ***pel, size_t *npel, size_t *pcap, size_t *mem, snack_t *n)
{
    size_t at = *npel && sid_cmp((*pel)[*npel - 1]->id, n->id) < 0
                    ? *npel
                    : stream_pel_lower(*pel, *npel, n->id);
    vec_ins((void ***)pel, npel, pcap, mem, at, n);
}

snack_t *stream_pel_add(stream_t *s, scgroup_t *g, sconsumer_t *c, sid_t id, uint64_t now_ms)
{
    snack_t *n = xmalloc(sizeof *n);
    n->id = id;
    n->delivery_time = now_ms;
    n->delivery_count = 1;
    n->consumer = c;
    s->mem += mem_alloc_size(sizeof *n);
    pel_insert(&g->pel, &g->npel, &g->pcap, &s->mem, n);
    pel_insert(&c->pel, &c->npel, &c->pcap, &s->mem, n);
    return n;
}

void stream_pel_remove(stream_t *s, scgroup_t *g, snack_t *n)
{
    size_t i = stream_pel_lower(g->pel, g->npel, n->id);
    if (i < g->npel && g->pel[i] == n)
        vec_del((void **)g->pel, &g->npel, i);
    consumer_pel_del(n->consumer, n->id);
    s->mem -= mem_alloc_size(sizeof *n);
    free(n);
}

void stream_pel_move(stream_t *s, snack_t *n, sconsumer_t *c)
{
    if (n->consumer == c)
        return;
    consumer_pel_del(n->consumer, n->id);
    pel_insert(&c->pel, &c->npel, &c->pcap, &s->mem, n);
    n->consumer = c;
}

/* ---- duplication (COPY) ---------------------------------------------------- */

stream_t *stream_group_dup_into(const stream_t *src, stream_t *dst)
{
    for (size_t i = 0; i < src->ngroups; i++) {
        const scgroup_t *sg = src->groups[i];
        scgroup_t *g = stream_group_create(dst, (sv_t){sg->name, sg->nlen}, sg->last_id,
                                           sg->entries_read);
        for (size_t j = 0; j < sg->nconsumers; j++) {
            const sconsumer_t *sc = sg->consumers[j];
            sconsumer_t *c =
                stream_consumer_create(dst, g, (sv_t){sc->name, sc->nlen}, sc->seen_time);
            for (size_t k = 0; k < sc->npel; k++) {
                snack_t *n = stream_pel_add(dst, g, c, sc->pel[k]->id, 0);
                n->delivery_time = sc->pel[k]->delivery_time;
                n->delivery_count = sc->pel[k]->delivery_count;
            }
        }
    }
    return dst;
}
