/* t_stream — a stream's entries in packed nodes; the layout and why are in
 * t_stream.h. Consumer groups are in t_stream_cg.c. */
#include "t_stream.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

enum { SE_DELETED = 1, SE_SAME = 2 };

struct snode {
    sid_t base;     /* the first entry's ID: deltas are against it */
    sid_t last;     /* the last entry's ID (deleted or not) */
    uint32_t count; /* entries, deleted ones included */
    uint32_t live;
    uint32_t len;   /* bytes used in data */
    uint32_t nmaster; /* master fields */
    uint32_t hdr;   /* bytes of the master fields */
    unsigned char data[];
};

int sid_incr(sid_t *id)
{
    if (id->seq == UINT64_MAX) {
        if (id->ms == UINT64_MAX)
            return -1;
        id->ms++;
        id->seq = 0;
    } else {
        id->seq++;
    }
    return 0;
}

int sid_decr(sid_t *id)
{
    if (id->seq == 0) {
        if (id->ms == 0)
            return -1;
        id->ms--;
        id->seq = UINT64_MAX;
    } else {
        id->seq--;
    }
    return 0;
}

int sid_format(sid_t id, char *buf)
{
    return sprintf(buf, "%" PRIu64 "-%" PRIu64, id.ms, id.seq);
}

/* ---- varints (LEB128) ---------------------------------------------------- */

static size_t vput(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (unsigned char)v;
    return n;
}

static size_t vlen(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static const unsigned char *vget(const unsigned char *p, uint64_t *v)
{
    uint64_t r = 0;
    unsigned sh = 0;
    for (;;) {
        unsigned char b = *p++;
        r |= (uint64_t)(b & 0x7f) << sh;
        if (!(b & 0x80))
            break;
        sh += 7;
    }
    *v = r;
    return p;
}

static const unsigned char *skip_str(const unsigned char *p)
{
    uint64_t n;
    p = vget(p, &n);
    return p + n;
}

static const unsigned char *get_str(const unsigned char *p, sv_t *s)
{
    uint64_t n;
    p = vget(p, &n);
    *s = (sv_t){(const char *)p, (size_t)n};
    return p + n;
}

/* ---- nodes ----------------------------------------------------------------- */

static size_t node_size(const snode_t *n) { return mem_alloc_size(sizeof *n + n->len); }

/* Decode the entry at p: its ID and where its fields start. */
static const unsigned char *entry_head(const snode_t *n, const unsigned char *p, int *flags,
                                       sid_t *id)
{
    uint64_t dms, seq;
    *flags = *p++;
    p = vget(p, &dms);
    p = vget(p, &seq);
    id->ms = n->base.ms + dms;
    id->seq = seq;
    return p;
}

/* The byte after the entry starting at p. */
static const unsigned char *entry_skip(const snode_t *n, const unsigned char *p)
{
    int flags;
    sid_t id;
    uint64_t nf;
    p = entry_head(n, p, &flags, &id);
    if (flags & SE_SAME) {
        for (uint32_t i = 0; i < n->nmaster; i++)
            p = skip_str(p);
        return p;
    }
    p = vget(p, &nf);
    for (uint64_t i = 0; i < 2 * nf; i++)
        p = skip_str(p);
    return p;
}

/* Does fv match the node's master fields? */
static int same_fields(const snode_t *n, const sv_t *fv, size_t nf)
{
    if (nf != n->nmaster)
        return 0;
    const unsigned char *p = n->data;
    uint64_t cnt;
    p = vget(p, &cnt);
    for (size_t i = 0; i < nf; i++) {
        sv_t f;
        p = get_str(p, &f);
        if (f.len != fv[2 * i].len || memcmp(f.p, fv[2 * i].p, f.len) != 0)
            return 0;
    }
    return 1;
}

static size_t put_str(unsigned char *p, sv_t s)
{
    size_t k = vput(p, s.len);
    if (s.len)
        memcpy(p + k, s.p, s.len);
    return k + s.len;
}

static snode_t *node_new(sid_t id, const sv_t *fv, size_t nf)
{
    size_t hdr = vlen(nf);
    for (size_t i = 0; i < nf; i++)
        hdr += vlen(fv[2 * i].len) + fv[2 * i].len;
    snode_t *n = xmalloc(sizeof *n + hdr);
    memset(n, 0, sizeof *n);
    n->base = id;
    n->last = id;
    n->nmaster = (uint32_t)nf;
    size_t off = vput(n->data, nf);
    for (size_t i = 0; i < nf; i++)
        off += put_str(n->data + off, fv[2 * i]);
    n->hdr = n->len = (uint32_t)off;
    return n;
}

static void vec_insert(stream_t *s, size_t at, snode_t *n)
{
    if (s->nnodes == s->ncap) {
        size_t before = s->ncap ? mem_alloc_size(s->ncap * sizeof *s->nodes) : 0;
        s->ncap = s->ncap ? s->ncap * 2 : 4;
        s->nodes = xrealloc(s->nodes, s->ncap * sizeof *s->nodes);
        s->mem += mem_alloc_size(s->ncap * sizeof *s->nodes) - before;
    }
    memmove(s->nodes + at + 1, s->nodes + at, (s->nnodes - at) * sizeof *s->nodes);
    s->nodes[at] = n;
    s->nnodes++;
}

/* Drop nodes [at, at+k) from the vector, freeing them. */
static void vec_remove(stream_t *s, size_t at, size_t k)
{
    for (size_t i = at; i < at + k; i++) {
        s->mem -= node_size(s->nodes[i]);
        free(s->nodes[i]);
    }
    memmove(s->nodes + at, s->nodes + at + k, (s->nnodes - at - k) * sizeof *s->nodes);
    s->nnodes -= k;
}

/* ---- the stream ------------------------------------------------------------ */

stream_t *stream_new(void)
{
    stream_t *s = xcalloc(1, sizeof *s);
    s->mem = mem_alloc_size(sizeof *s);
    return s;
}

void stream_groups_free(stream_t *s); /* t_stream_cg.c */

void stream_free(stream_t *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nnodes; i++)
        free(s->nodes[i]);
    free(s->nodes);
    stream_groups_free(s);
    free(s);
}

void stream_append(stream_t *s, sid_t id, const sv_t *fv, size_t nf, size_t max_entries,
                   size_t max_bytes)
{
    if (max_entries == 0 || max_entries > STREAM_NODE_HARD_MAX)
        max_entries = STREAM_NODE_HARD_MAX;
    snode_t *n = s->nnodes ? s->nodes[s->nnodes - 1] : NULL;
    /* The entry's size, first as if it shared the master fields. */
    int same = n && same_fields(n, fv, nf);
    size_t need = 1;
    size_t raw = 32; /* an upper bound of the entry's bytes */
    for (size_t i = 0; i < 2 * nf; i++)
        raw += fv[i].len + 10;
    /* A node's length is 32 bits: whatever the limits, a node stays well
     * below that (a single entry is below 1 GiB, XADD checks). */
    if (n && (n->count >= max_entries || (max_bytes && n->len >= max_bytes) ||
              (uint64_t)n->len + raw > 0x7fffffffu))
        n = NULL, same = 0;
    if (!n) {
        n = node_new(id, fv, nf);
        s->mem += node_size(n);
        vec_insert(s, s->nnodes, n);
        same = 1;
    }
    need += vlen(id.ms - n->base.ms) + vlen(id.seq);
    if (!same)
        need += vlen(nf);
    for (size_t i = 0; i < nf; i++) {
        if (!same)
            need += vlen(fv[2 * i].len) + fv[2 * i].len;
        need += vlen(fv[2 * i + 1].len) + fv[2 * i + 1].len;
    }
    size_t before = node_size(n);
    n = xrealloc(n, sizeof *n + n->len + need);
    s->nodes[s->nnodes - 1] = n;
    unsigned char *p = n->data + n->len;
    size_t off = 0;
    p[off++] = same ? SE_SAME : 0;
    off += vput(p + off, id.ms - n->base.ms);
    off += vput(p + off, id.seq);
    if (!same)
        off += vput(p + off, nf);
    for (size_t i = 0; i < nf; i++) {
        if (!same)
            off += put_str(p + off, fv[2 * i]);
        off += put_str(p + off, fv[2 * i + 1]);
    }
    n->len += (uint32_t)off;
    n->count++;
    n->live++;
    n->last = id;
    s->mem += node_size(n) - before;
    s->length++;
    s->last_id = id;
    s->entries_added++;
}

/* The index of the node that may hold id: the last whose base <= id, or
 * nnodes when none. */
static size_t node_of(const stream_t *s, sid_t id)
{
    size_t lo = 0, hi = s->nnodes;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (sid_cmp(s->nodes[mid]->base, id) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? lo - 1 : s->nnodes;
}

/* Mark the entry at p deleted. */
static void mark_deleted(stream_t *s, size_t ni, unsigned char *p)
{
    snode_t *n = s->nodes[ni];
    *p |= SE_DELETED;
    n->live--;
    s->length--;
    if (!n->live)
        vec_remove(s, ni, 1);
}

int stream_delete(stream_t *s, sid_t id)
{
    size_t ni = node_of(s, id);
    if (ni == s->nnodes)
        return 0;
    snode_t *n = s->nodes[ni];
    if (sid_cmp(id, n->last) > 0)
        return 0;
    const unsigned char *p = n->data + n->hdr, *end = n->data + n->len;
    while (p < end) {
        int flags;
        sid_t eid;
        entry_head(n, p, &flags, &eid);
        int c = sid_cmp(eid, id);
        if (c == 0) {
            if (flags & SE_DELETED)
                return 0;
            mark_deleted(s, ni, (unsigned char *)p);
            return 1;
        }
        if (c > 0)
            return 0;
        p = entry_skip(n, p);
    }
    return 0;
}

/* Delete the first node's live entries from the front while keep() says so. */
static uint64_t trim_entries(stream_t *s, const strim_t *t)
{
    snode_t *n = s->nodes[0];
    const unsigned char *p = n->data + n->hdr, *end = n->data + n->len;
    uint64_t removed = 0;
    while (p < end) {
        int flags;
        sid_t id;
        entry_head(n, p, &flags, &id);
        const unsigned char *next = entry_skip(n, p);
        if (!(flags & SE_DELETED)) {
            if (t->by_minid ? sid_cmp(id, t->minid) >= 0 : s->length <= t->maxlen)
                break;
            removed++;
            if (n->live == 1) { /* its last live entry: the node goes */
                mark_deleted(s, 0, (unsigned char *)p);
                break;
            }
            mark_deleted(s, 0, (unsigned char *)p);
        }
        p = next;
    }
    return removed;
}

uint64_t stream_trim(stream_t *s, const strim_t *t)
{
    uint64_t removed = 0;
    size_t drop = 0;
    uint64_t len = s->length;
    /* Whole nodes first. */
    while (drop < s->nnodes) {
        snode_t *n = s->nodes[drop];
        if (t->by_minid ? sid_cmp(n->last, t->minid) >= 0 : len - n->live < t->maxlen)
            break;
        if (t->by_minid == 0 && len <= t->maxlen)
            break;
        if (t->approx && t->limit && removed + n->live > t->limit)
            break;
        removed += n->live;
        len -= n->live;
        drop++;
    }
    if (drop) {
        vec_remove(s, 0, drop);
        s->length = len;
    }
    if (t->approx || !s->nnodes)
        return removed;
    if (t->by_minid || s->length > t->maxlen)
        removed += trim_entries(s, t);
    return removed;
}

static int edge_id(const stream_t *s, int last, sid_t *out)
{
    if (!s->length)
        return -1;
    stream_iter_t *it = xmalloc(sizeof *it);
    uint64_t nf;
    stream_iter_start(it, s, (sid_t){0, 0}, (sid_t){UINT64_MAX, UINT64_MAX}, last);
    int r = stream_iter_next(it, out, &nf) ? 0 : -1;
    free(it);
    return r;
}

int stream_first_id(const stream_t *s, sid_t *id) { return edge_id(s, 0, id); }
int stream_last_live_id(const stream_t *s, sid_t *id) { return edge_id(s, 1, id); }

size_t stream_nodes(const stream_t *s) { return s->nnodes; }

stream_t *stream_group_dup_into(const stream_t *src, stream_t *dst); /* t_stream_cg.c */

stream_t *stream_dup(const stream_t *src)
{
    stream_t *s = stream_new();
    s->ncap = s->nnodes = src->nnodes;
    if (s->ncap) {
        s->nodes = xmalloc(s->ncap * sizeof *s->nodes);
        s->mem += mem_alloc_size(s->ncap * sizeof *s->nodes);
    }
    for (size_t i = 0; i < src->nnodes; i++) {
        size_t sz = sizeof(snode_t) + src->nodes[i]->len;
        s->nodes[i] = xmalloc(sz);
        memcpy(s->nodes[i], src->nodes[i], sz);
        s->mem += node_size(s->nodes[i]);
    }
    s->length = src->length;
    s->last_id = src->last_id;
    s->max_deleted_id = src->max_deleted_id;
    s->entries_added = src->entries_added;
    return stream_group_dup_into(src, s);
}

/* ---- iteration ------------------------------------------------------------- */

void stream_iter_start(stream_iter_t *it, const stream_t *s, sid_t start, sid_t end, int rev)
{
    it->s = s;
    it->start = start;
    it->end = end;
    it->rev = rev;
    it->started = 0;
    it->nent = it->ei = 0;
    it->nf = it->fi = 0;
    if (!rev) {
        size_t ni = node_of(s, start);
        it->ni = ni == s->nnodes ? 0 : ni;
    } else {
        size_t ni = node_of(s, end);
        it->ni = ni; /* nnodes: no node at or below end */
    }
}

/* Decode the entry offsets of node ni. */
static void load_node(stream_iter_t *it)
{
    const snode_t *n = it->s->nodes[it->ni];
    const unsigned char *p = n->data + n->hdr, *end = n->data + n->len;
    uint32_t k = 0;
    while (p < end && k < STREAM_NODE_HARD_MAX) {
        it->offs[k++] = (uint32_t)(p - n->data);
        p = entry_skip(n, p);
    }
    it->nent = k;
    it->ei = it->rev ? k : 0;
}

int stream_iter_next(stream_iter_t *it, sid_t *id, uint64_t *nf)
{
    const stream_t *s = it->s;
    for (;;) {
        if (!it->started) {
            if (it->ni >= s->nnodes)
                return 0;
            load_node(it);
            it->started = 1;
        }
        if (it->rev ? it->ei == 0 : it->ei >= it->nent) {
            if (it->rev) {
                if (it->ni == 0)
                    return 0;
                it->ni--;
            } else {
                it->ni++;
            }
            it->started = 0;
            continue;
        }
        const snode_t *n = s->nodes[it->ni];
        uint32_t k = it->rev ? --it->ei : it->ei++;
        int flags;
        const unsigned char *p = entry_head(n, n->data + it->offs[k], &flags, id);
        if (!it->rev && sid_cmp(*id, it->end) > 0) {
            it->ni = s->nnodes; /* done */
            it->ei = it->nent;
            return 0;
        }
        if (it->rev && sid_cmp(*id, it->start) < 0) {
            it->ni = 0;
            it->ei = 0;
            return 0;
        }
        if (flags & SE_DELETED)
            continue;
        if (!it->rev ? sid_cmp(*id, it->start) < 0 : sid_cmp(*id, it->end) > 0)
            continue;
        it->same = (flags & SE_SAME) != 0;
        if (it->same) {
            it->nf = n->nmaster;
            it->mp = vget(n->data, nf); /* skip the count */
        } else {
            p = vget(p, &it->nf);
            it->mp = NULL;
        }
        it->fp = p;
        it->fi = 0;
        *nf = it->nf;
        return 1;
    }
}

int stream_iter_field(stream_iter_t *it, sv_t *field, sv_t *value)
{
    if (it->fi >= it->nf)
        return 0;
    if (it->same)
        it->mp = get_str(it->mp, field);
    else
        it->fp = get_str(it->fp, field);
    it->fp = get_str(it->fp, value);
    it->fi++;
    return 1;
}

/* ---- Redis 7.0's read counters --------------------------------------------- */

int stream_range_has_tombstones(const stream_t *s, sid_t start, sid_t end)
{
    if (!s->length || (s->max_deleted_id.ms == 0 && s->max_deleted_id.seq == 0))
        return 0;
    sid_t first;
    if (stream_first_id(s, &first) == 0 && sid_cmp(first, s->max_deleted_id) > 0)
        return 0; /* every deletion lies before the first entry */
    return sid_cmp(start, s->max_deleted_id) <= 0 && sid_cmp(end, s->max_deleted_id) >= 0;
}

int64_t stream_estimate_distance(const stream_t *s, sid_t id)
{
    if (!s->entries_added)
        return 0;
    if (!s->length && sid_cmp(id, s->last_id) < 1)
        return (int64_t)s->entries_added;
    int cl = sid_cmp(id, s->last_id);
    if (cl == 0)
        return (int64_t)s->entries_added;
    if (cl > 0)
        return SCG_INVALID_READ;
    sid_t first = {0, 0};
    stream_first_id(s, &first);
    int nodel = s->max_deleted_id.ms == 0 && s->max_deleted_id.seq == 0;
    if (nodel || sid_cmp(s->max_deleted_id, first) < 0) {
        int cf = sid_cmp(id, first);
        if (cf < 0)
            return (int64_t)(s->entries_added - s->length);
        if (cf == 0)
            return (int64_t)(s->entries_added - s->length + 1);
    }
    return SCG_INVALID_READ;
}

int stream_group_lag(const stream_t *s, const scgroup_t *g, int64_t *lag)
{
    if (!s->entries_added) {
        *lag = 0;
        return 0;
    }
    if (g->entries_read != SCG_INVALID_READ &&
        !stream_range_has_tombstones(s, g->last_id, (sid_t){UINT64_MAX, UINT64_MAX})) {
        *lag = (int64_t)s->entries_added - g->entries_read;
        return 0;
    }
    int64_t read = stream_estimate_distance(s, g->last_id);
    if (read == SCG_INVALID_READ)
        return -1;
    *lag = (int64_t)s->entries_added - read;
    return 0;
}
