/* rdb_stream — streams in the RDB format (rdb.h), RDB_TYPE_STREAM_LISTPACKS_2
 * as redis-server 7.0 writes it: the entries in listpack nodes keyed by
 * their master ID (each node: a master entry naming the first entry's
 * fields, then per entry flags, the ID's difference to the master, the
 * fields unless they are the master's, the values and the entry's element
 * count), the metadata (length, last ID, first ID, max deleted ID, entries
 * added), then the consumer groups with their pending entries and
 * consumers. The reader takes hostile bytes like RESTORE's other readers. */
#include <stdlib.h>
#include <string.h>

#include "rdb.h"
#include "t_stream.h"
#include "util.h"

#define SF_DELETED 1
#define SF_SAMEFIELDS 2
#define NODE_ENTRIES 100 /* entries per written node (Redis's default) */

/* ---- a listpack writer --------------------------------------------------- */

static void lp_backlen(buf_t *b, size_t l)
{
    unsigned char x[5];
    int n;
    if (l <= 127) {
        x[0] = (unsigned char)l;
        n = 1;
    } else if (l < 16383) {
        x[0] = (unsigned char)(l >> 7);
        x[1] = (unsigned char)((l & 127) | 128);
        n = 2;
    } else if (l < 2097151) {
        x[0] = (unsigned char)(l >> 14);
        x[1] = (unsigned char)(((l >> 7) & 127) | 128);
        x[2] = (unsigned char)((l & 127) | 128);
        n = 3;
    } else if (l < 268435455) {
        x[0] = (unsigned char)(l >> 21);
        x[1] = (unsigned char)(((l >> 14) & 127) | 128);
        x[2] = (unsigned char)(((l >> 7) & 127) | 128);
        x[3] = (unsigned char)((l & 127) | 128);
        n = 4;
    } else {
        x[0] = (unsigned char)(l >> 28);
        x[1] = (unsigned char)(((l >> 21) & 127) | 128);
        x[2] = (unsigned char)(((l >> 14) & 127) | 128);
        x[3] = (unsigned char)(((l >> 7) & 127) | 128);
        x[4] = (unsigned char)((l & 127) | 128);
        n = 5;
    }
    buf_append(b, x, (size_t)n);
}

typedef struct lpw {
    buf_t b;
    uint32_t count;
} lpw_t;

static void lp_start(lpw_t *w)
{
    w->b.len = 0;
    w->count = 0;
    buf_append(&w->b, "\0\0\0\0\0\0", 6);
}

static void lp_int(lpw_t *w, int64_t v)
{
    unsigned char x[9];
    x[0] = 0xF4; /* 64-bit integer: valid for any value */
    for (int i = 0; i < 8; i++)
        x[1 + i] = (unsigned char)((uint64_t)v >> (8 * i));
    buf_append(&w->b, x, 9);
    lp_backlen(&w->b, 9);
    w->count++;
}

static void lp_str(lpw_t *w, const char *p, size_t n)
{
    unsigned char h[5];
    size_t hl;
    if (n < 64) {
        h[0] = (unsigned char)(0x80 | n);
        hl = 1;
    } else if (n < 4096) {
        h[0] = (unsigned char)(0xE0 | (n >> 8));
        h[1] = (unsigned char)(n & 0xff);
        hl = 2;
    } else {
        h[0] = 0xF0;
        for (int i = 0; i < 4; i++)
            h[1 + i] = (unsigned char)(n >> (8 * i));
        hl = 5;
    }
    buf_append(&w->b, h, hl);
    buf_append(&w->b, p, n);
    lp_backlen(&w->b, hl + n);
    w->count++;
}

static void lp_finish(lpw_t *w)
{
    buf_putc(&w->b, (char)0xFF);
    uint32_t total = (uint32_t)w->b.len;
    uint16_t num = w->count < 65535 ? (uint16_t)w->count : 65535;
    for (int i = 0; i < 4; i++)
        w->b.data[i] = (char)(total >> (8 * i));
    w->b.data[4] = (char)(num & 0xff);
    w->b.data[5] = (char)(num >> 8);
}

/* ---- writing -------------------------------------------------------------- */

static void put_raw_id(buf_t *b, sid_t id)
{
    unsigned char x[16];
    for (int i = 0; i < 8; i++) {
        x[i] = (unsigned char)(id.ms >> (56 - 8 * i));
        x[8 + i] = (unsigned char)(id.seq >> (56 - 8 * i));
    }
    buf_append(b, x, 16);
}

static void put_ms(buf_t *b, uint64_t ms)
{
    unsigned char x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (unsigned char)(ms >> (8 * i));
    buf_append(b, x, 8);
}

void rdb_save_stream(buf_t *b, const stream_t *s)
{
    /* Entries first into nodes: count the nodes, then write them. */
    buf_t nodes;
    buf_init(&nodes);
    size_t nnodes = 0;
    lpw_t lp, ent;
    buf_init(&lp.b);
    buf_init(&ent.b);
    sv_t *mf = NULL, *fv = NULL;
    size_t nmf = 0, mfcap = 0, fvcap = 0;
    buf_t mfbuf;
    buf_init(&mfbuf);
    stream_iter_t *it = xmalloc(sizeof *it);
    sid_t lo = {0, 0}, hi = {UINT64_MAX, UINT64_MAX}, id, mid = {0, 0};
    stream_iter_start(it, s, lo, hi, 0);
    uint64_t nf;
    uint32_t in_node = 0;
    int more = stream_iter_next(it, &id, &nf);
    while (more) {
        /* collect this entry's fields and values */
        if (nf * 2 > fvcap) {
            fvcap = nf * 2;
            fv = xrealloc(fv, fvcap * sizeof *fv);
        }
        for (uint64_t i = 0; i < nf; i++)
            stream_iter_field(it, &fv[2 * i], &fv[2 * i + 1]);
        if (in_node == 0) {
            /* a new node: its master entry names this entry's fields */
            mid = id;
            mfbuf.len = 0;
            nmf = (size_t)nf;
            if (nmf > mfcap) {
                mfcap = nmf;
                mf = xrealloc(mf, mfcap * sizeof *mf);
            }
            size_t off = 0;
            for (size_t i = 0; i < nmf; i++) {
                buf_append(&mfbuf, fv[2 * i].p, fv[2 * i].len);
                off += fv[2 * i].len;
            }
            off = 0;
            for (size_t i = 0; i < nmf; i++) {
                mf[i].p = mfbuf.data + off;
                mf[i].len = fv[2 * i].len;
                off += fv[2 * i].len;
            }
            lp_start(&ent);
        }
        int same = nf == nmf;
        for (size_t i = 0; same && i < nmf; i++)
            same = fv[2 * i].len == mf[i].len && memcmp(fv[2 * i].p, mf[i].p, mf[i].len) == 0;
        lp_int(&ent, same ? SF_SAMEFIELDS : 0);
        lp_int(&ent, (int64_t)(id.ms - mid.ms));
        lp_int(&ent, (int64_t)(id.seq - mid.seq));
        if (!same)
            lp_int(&ent, (int64_t)nf);
        for (uint64_t i = 0; i < nf; i++) {
            if (!same)
                lp_str(&ent, fv[2 * i].p, fv[2 * i].len);
            lp_str(&ent, fv[2 * i + 1].p, fv[2 * i + 1].len);
        }
        lp_int(&ent, (int64_t)(nf + 3 + (same ? 0 : nf + 1)));
        in_node++;
        more = stream_iter_next(it, &id, &nf);
        if (in_node == NODE_ENTRIES || !more) {
            /* master entry, then the entries, into one listpack */
            lp_start(&lp);
            lp_int(&lp, in_node);
            lp_int(&lp, 0);
            lp_int(&lp, (int64_t)nmf);
            for (size_t i = 0; i < nmf; i++)
                lp_str(&lp, mf[i].p, mf[i].len);
            lp_int(&lp, 0);
            buf_append(&lp.b, ent.b.data + 6, ent.b.len - 6);
            lp.count += ent.count;
            lp_finish(&lp);
            unsigned char key[16];
            buf_t kb;
            buf_init(&kb);
            put_raw_id(&kb, mid);
            memcpy(key, kb.data, 16);
            buf_free(&kb);
            rdb_put_string(&nodes, (const char *)key, 16);
            rdb_put_string(&nodes, lp.b.data, lp.b.len);
            nnodes++;
            in_node = 0;
        }
    }
    free(it);
    free(fv);
    free(mf);
    buf_free(&mfbuf);
    buf_free(&lp.b);
    buf_free(&ent.b);

    rdb_put_type(b, RDB_TYPE_STREAM_LISTPACKS_2);
    rdb_put_len(b, nnodes);
    buf_append(b, nodes.data, nodes.len);
    buf_free(&nodes);
    rdb_put_len(b, s->length);
    rdb_put_len(b, s->last_id.ms);
    rdb_put_len(b, s->last_id.seq);
    sid_t first = {0, 0};
    stream_first_id(s, &first);
    rdb_put_len(b, first.ms);
    rdb_put_len(b, first.seq);
    rdb_put_len(b, s->max_deleted_id.ms);
    rdb_put_len(b, s->max_deleted_id.seq);
    rdb_put_len(b, s->entries_added);
    rdb_put_len(b, s->ngroups);
    for (size_t g = 0; g < s->ngroups; g++) {
        const scgroup_t *cg = s->groups[g];
        rdb_put_string(b, cg->name, cg->nlen);
        rdb_put_len(b, cg->last_id.ms);
        rdb_put_len(b, cg->last_id.seq);
        rdb_put_len(b, (uint64_t)cg->entries_read); /* -1 as Redis writes it */
        rdb_put_len(b, cg->npel);
        for (size_t i = 0; i < cg->npel; i++) {
            put_raw_id(b, cg->pel[i]->id);
            put_ms(b, cg->pel[i]->delivery_time);
            rdb_put_len(b, cg->pel[i]->delivery_count);
        }
        rdb_put_len(b, cg->nconsumers);
        for (size_t c = 0; c < cg->nconsumers; c++) {
            const sconsumer_t *co = cg->consumers[c];
            rdb_put_string(b, co->name, co->nlen);
            put_ms(b, co->seen_time);
            rdb_put_len(b, co->npel);
            for (size_t i = 0; i < co->npel; i++)
                put_raw_id(b, co->pel[i]->id);
        }
    }
}

/* ---- reading ------------------------------------------------------------- */

/* A listpack's elements as strings in one arena (integers in decimal). */
typedef struct lpel {
    size_t off, len;
    int isint;
    long long v;
} lpel_t;

typedef struct lpread {
    buf_t arena;
    lpel_t *el;
    size_t n, cap;
} lpread_t;

static int collect_el(void *arg, const rdb_elem_t *e)
{
    lpread_t *lr = arg;
    if (lr->n == lr->cap) {
        lr->cap = lr->cap ? lr->cap * 2 : 64;
        lr->el = xrealloc(lr->el, lr->cap * sizeof *lr->el);
    }
    lpel_t *x = &lr->el[lr->n++];
    x->off = lr->arena.len;
    if (e->p) {
        x->isint = 0;
        buf_append(&lr->arena, e->p, e->n);
        x->len = e->n;
        x->v = 0;
    } else {
        char tmp[24];
        int k = ll_to_str(tmp, e->v);
        buf_append(&lr->arena, tmp, (size_t)k);
        x->len = (size_t)k;
        x->isint = 1;
        x->v = e->v;
    }
    return 0;
}

static int el_int(const lpread_t *lr, size_t i, long long *v)
{
    if (i >= lr->n)
        return -1;
    const lpel_t *x = &lr->el[i];
    if (x->isint) {
        *v = x->v;
        return 0;
    }
    return str_to_ll(lr->arena.data + x->off, x->len, v);
}

static sv_t el_sv(const lpread_t *lr, size_t i)
{
    return (sv_t){lr->arena.data + lr->el[i].off, lr->el[i].len};
}

static int get_raw_id(rdb_reader_t *r, sid_t *id)
{
    if (r->len - r->off < 16)
        return -1;
    id->ms = id->seq = 0;
    for (int i = 0; i < 8; i++) {
        id->ms = id->ms << 8 | r->p[r->off + (size_t)i];
        id->seq = id->seq << 8 | r->p[r->off + 8 + (size_t)i];
    }
    r->off += 16;
    return 0;
}

static int get_ms(rdb_reader_t *r, uint64_t *ms)
{
    if (r->len - r->off < 8)
        return -1;
    *ms = 0;
    for (int i = 0; i < 8; i++)
        *ms |= (uint64_t)r->p[r->off + (size_t)i] << (8 * i);
    r->off += 8;
    return 0;
}

/* The entries of one node's listpack, appended to s. */
static int load_node(stream_t *s, sid_t master, lpread_t *lr, sv_t **fv, size_t *fvcap)
{
    long long count, deleted, nmf, v;
    if (el_int(lr, 0, &count) || el_int(lr, 1, &deleted) || el_int(lr, 2, &nmf) || nmf < 0 ||
        (size_t)nmf > lr->n || el_int(lr, 3 + (size_t)nmf, &v) || v != 0)
        return -1;
    size_t i = 4 + (size_t)nmf, mf = 3;
    while (i < lr->n) {
        long long flags, dms, dseq, nf;
        if (el_int(lr, i, &flags) || el_int(lr, i + 1, &dms) || el_int(lr, i + 2, &dseq))
            return -1;
        i += 3;
        int same = (flags & SF_SAMEFIELDS) != 0;
        if (same) {
            nf = nmf;
        } else {
            if (el_int(lr, i, &nf) || nf < 0 || (size_t)nf > lr->n)
                return -1;
            i++;
        }
        size_t need = (size_t)nf * (same ? 1 : 2);
        if (i + need + 1 > lr->n)
            return -1;
        if ((size_t)nf * 2 > *fvcap) {
            *fvcap = (size_t)nf * 2;
            *fv = xrealloc(*fv, *fvcap * sizeof **fv);
        }
        for (size_t f = 0; f < (size_t)nf; f++) {
            if (same) {
                (*fv)[2 * f] = el_sv(lr, mf + f);
                (*fv)[2 * f + 1] = el_sv(lr, i++);
            } else {
                (*fv)[2 * f] = el_sv(lr, i++);
                (*fv)[2 * f + 1] = el_sv(lr, i++);
            }
        }
        i++; /* lp-count */
        sid_t id = {master.ms + (uint64_t)dms, master.seq + (uint64_t)dseq};
        if (flags & SF_DELETED)
            continue;
        if (nf == 0 || (s->length && sid_cmp(id, s->last_id) <= 0))
            return -1; /* entries ascend, each with a field */
        stream_append(s, id, *fv, (size_t)nf, NODE_ENTRIES, 4096);
    }
    (void)count;
    (void)deleted;
    return 0;
}

typedef struct pend {
    sid_t id;
    uint64_t time, count;
    int owned;
} pend_t;

static int load_groups(rdb_reader_t *r, int v2, stream_t *s, buf_t *tmp)
{
    uint64_t ng;
    if (rdb_get_len(r, &ng) != 0)
        return -1;
    pend_t *pel = NULL;
    size_t pcap = 0;
    int rc = -1;
    for (uint64_t g = 0; g < ng; g++) {
        sid_t last;
        uint64_t er = (uint64_t)SCG_INVALID_READ, np, nc;
        if (rdb_get_string(r, tmp) != 0 || rdb_get_len(r, &last.ms) != 0 ||
            rdb_get_len(r, &last.seq) != 0 || (v2 && rdb_get_len(r, &er) != 0))
            goto out;
        if (!v2) /* Redis 7.0 estimates a 6.x group's entries-read on load */
            er = (uint64_t)stream_estimate_distance(s, last);
        scgroup_t *cg = stream_group_create(s, (sv_t){tmp->data, tmp->len}, last, (int64_t)er);
        if (!cg || rdb_get_len(r, &np) != 0)
            goto out;
        size_t n = 0;
        for (uint64_t i = 0; i < np; i++) {
            if (n == pcap) {
                pcap = pcap ? pcap * 2 : 16;
                pel = xrealloc(pel, pcap * sizeof *pel);
            }
            pend_t *p = &pel[n];
            if (get_raw_id(r, &p->id) != 0 || get_ms(r, &p->time) != 0 ||
                rdb_get_len(r, &p->count) != 0 || (n && sid_cmp(p->id, pel[n - 1].id) <= 0))
                goto out;
            p->owned = 0;
            n++;
        }
        if (rdb_get_len(r, &nc) != 0)
            goto out;
        for (uint64_t c = 0; c < nc; c++) {
            uint64_t seen, cnp;
            if (rdb_get_string(r, tmp) != 0 || get_ms(r, &seen) != 0)
                goto out;
            sconsumer_t *co = stream_consumer_create(s, cg, (sv_t){tmp->data, tmp->len}, seen);
            if (!co || rdb_get_len(r, &cnp) != 0)
                goto out;
            co->seen_time = seen;
            for (uint64_t k = 0; k < cnp; k++) {
                sid_t id;
                if (get_raw_id(r, &id) != 0)
                    goto out;
                size_t lo = 0, hi = n; /* the group's PEL is sorted */
                while (lo < hi) {
                    size_t mid = (lo + hi) / 2;
                    if (sid_cmp(pel[mid].id, id) < 0)
                        lo = mid + 1;
                    else
                        hi = mid;
                }
                if (lo == n || sid_cmp(pel[lo].id, id) != 0 || pel[lo].owned)
                    goto out; /* a consumer's entry the group does not have */
                pel[lo].owned = 1;
                snack_t *nk = stream_pel_add(s, cg, co, id, pel[lo].time);
                nk->delivery_count = pel[lo].count;
            }
        }
        for (size_t i = 0; i < n; i++)
            if (!pel[i].owned)
                goto out; /* a pending entry without a consumer */
    }
    rc = 0;
out:
    free(pel);
    return rc;
}

int rdb_load_stream(rdb_reader_t *r, int type, obj_t *o, buf_t *tmp)
{
    stream_t *s = stream_new();
    *o = obj_make(OBJ_STREAM, s);
    uint64_t nnodes;
    if (rdb_get_len(r, &nnodes) != 0)
        return -1;
    lpread_t lr = {0};
    buf_init(&lr.arena);
    sv_t *fv = NULL;
    size_t fvcap = 0;
    buf_t key;
    buf_init(&key);
    int rc = -1;
    for (uint64_t i = 0; i < nnodes; i++) {
        sid_t master;
        if (rdb_get_string(r, &key) != 0 || key.len != 16)
            goto out;
        rdb_reader_t kr = rdb_reader(key.data, 16);
        get_raw_id(&kr, &master);
        if (rdb_get_string(r, tmp) != 0)
            goto out;
        lr.n = 0;
        lr.arena.len = 0;
        if (rdb_listpack_walk((const unsigned char *)tmp->data, tmp->len, collect_el, &lr, NULL) !=
                0 ||
            lr.n == 0 || load_node(s, master, &lr, &fv, &fvcap) != 0)
            goto out;
    }
    uint64_t length;
    sid_t last, first, maxdel = {0, 0};
    uint64_t added;
    if (rdb_get_len(r, &length) != 0 || rdb_get_len(r, &last.ms) != 0 ||
        rdb_get_len(r, &last.seq) != 0)
        goto out;
    added = length;
    if (type == RDB_TYPE_STREAM_LISTPACKS_2 &&
        (rdb_get_len(r, &first.ms) != 0 || rdb_get_len(r, &first.seq) != 0 ||
         rdb_get_len(r, &maxdel.ms) != 0 || rdb_get_len(r, &maxdel.seq) != 0 ||
         rdb_get_len(r, &added) != 0))
        goto out;
    if (length != s->length || (s->length && sid_cmp(last, s->last_id) < 0))
        goto out;
    s->last_id = last;
    s->max_deleted_id = maxdel;
    s->entries_added = added;
    rc = load_groups(r, type == RDB_TYPE_STREAM_LISTPACKS_2, s, tmp);
out:
    free(lr.el);
    buf_free(&lr.arena);
    free(fv);
    buf_free(&key);
    return rc;
}
