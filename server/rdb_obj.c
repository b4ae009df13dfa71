/* rdb_obj — values to and from the RDB format (rdb.h): one writer and one
 * reader per percore type, in the tables at the end (a new type, streams,
 * adds one row to each).
 *
 * Writers use the plainest encodings redis-server 7.0 loads (RDB_TYPE_LIST,
 * _SET, _ZSET_2, _HASH: a length and the elements); Redis converts them to
 * its compact encodings on load. Readers accept every encoding redis-server
 * 7.0 writes or still loads for these types, and reject what Redis's RESTORE
 * rejects: malformed input, empty aggregates, duplicate set members, hash
 * fields or sorted-set members, NaN scores. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rdb.h"
#include "t_hash.h"
#include "t_list.h"
#include "t_set.h"
#include "t_zset.h"
#include "util.h"

/* Quicklist node containers (RDB_TYPE_LIST_QUICKLIST_2). */
#define QL_PLAIN 1
#define QL_PACKED 2

/* ---- writers ---------------------------------------------------------------- */

static void put_sv(buf_t *b, sv_t s)
{
    rdb_put_string(b, s.p, s.len);
}

static void save_string(buf_t *b, const obj_t *o)
{
    char tmp[24];
    rdb_put_type(b, RDB_TYPE_STRING);
    put_sv(b, obj_str(o, tmp));
}

static void save_list(buf_t *b, const obj_t *o)
{
    const list_t *l = o->v.ptr;
    rdb_put_type(b, RDB_TYPE_LIST);
    rdb_put_len(b, list_len(l));
    for (size_t i = 0; i < list_len(l); i++)
        put_sv(b, list_at(l, i));
}

static void save_set(buf_t *b, const obj_t *o)
{
    const set_t *s = o->v.ptr;
    set_iter_t it = {0};
    sv_t m;
    rdb_put_type(b, RDB_TYPE_SET);
    rdb_put_len(b, set_len(s));
    while (set_next(s, &it, &m))
        put_sv(b, m);
}

static void save_zset(buf_t *b, const obj_t *o)
{
    const zset_t *z = o->v.ptr;
    rdb_put_type(b, RDB_TYPE_ZSET_2);
    rdb_put_len(b, zset_len(z));
    for (znode_t *x = zset_first(z); x; x = zn_next(x)) {
        put_sv(b, zn_member(x));
        rdb_put_double_bin(b, x->score);
    }
}

static void save_hash(buf_t *b, const obj_t *o)
{
    const hash_t *h = o->v.ptr;
    hash_iter_t it = {0};
    hfield_t e;
    rdb_put_type(b, RDB_TYPE_HASH);
    rdb_put_len(b, hash_len(h));
    while (hash_next(h, &it, &e)) {
        put_sv(b, e.f);
        put_sv(b, e.v);
    }
}

/* ---- readers: building a value element by element ------------------------------ */

/* What the element callbacks build: the object, and for pairs the first
 * half waiting for its second. */
typedef struct builder {
    obj_t *o;
    buf_t pend;
    int have_pend;
} builder_t;

/* An element's bytes (an integer formatted into tmp). */
static sv_t elem_sv(const rdb_elem_t *e, char tmp[24])
{
    if (e->p)
        return (sv_t){(const char *)e->p, e->n};
    int n = ll_to_str(tmp, e->v);
    return (sv_t){tmp, (size_t)n};
}

static int add_list(builder_t *bd, sv_t s)
{
    list_push(bd->o->v.ptr, LIST_TAIL, s.p, s.len);
    return 0;
}

static int add_set(builder_t *bd, sv_t s)
{
    return set_add(bd->o->v.ptr, s.p, s.len) ? 0 : -1;
}

static int add_zset(builder_t *bd, sv_t m, double score)
{
    zset_t *z = bd->o->v.ptr;
    if (isnan(score) || zset_find(z, m.p, m.len))
        return -1;
    zset_insert(z, m.p, m.len, score);
    return 0;
}

static int add_hash(builder_t *bd, sv_t f, sv_t v)
{
    hash_t *h = bd->o->v.ptr;
    int r = hash_set(&h, f.p, f.len, v.p, v.len);
    bd->o->v.ptr = h;
    return r ? 0 : -1;
}

static int list_elem_cb(void *arg, const rdb_elem_t *e)
{
    char tmp[24];
    return add_list(arg, elem_sv(e, tmp));
}

static int set_elem_cb(void *arg, const rdb_elem_t *e)
{
    char tmp[24];
    return add_set(arg, elem_sv(e, tmp));
}

/* Pairs: remember the first element, add on the second. */
static int pair_first(builder_t *bd, const rdb_elem_t *e)
{
    char tmp[24];
    sv_t s = elem_sv(e, tmp);
    bd->pend.len = 0;
    buf_append(&bd->pend, s.p, s.len);
    bd->have_pend = 1;
    return 0;
}

static int zset_elem_cb(void *arg, const rdb_elem_t *e)
{
    builder_t *bd = arg;
    if (!bd->have_pend)
        return pair_first(bd, e);
    bd->have_pend = 0;
    double score;
    if (e->p) {
        if (str_to_double((const char *)e->p, e->n, &score) != 0)
            return -1;
    } else {
        score = (double)e->v;
    }
    return add_zset(bd, (sv_t){bd->pend.data, bd->pend.len}, score);
}

static int hash_elem_cb(void *arg, const rdb_elem_t *e)
{
    builder_t *bd = arg;
    if (!bd->have_pend)
        return pair_first(bd, e);
    bd->have_pend = 0;
    char tmp[24];
    return add_hash(bd, (sv_t){bd->pend.data, bd->pend.len}, elem_sv(e, tmp));
}

typedef int blob_walk_fn(const unsigned char *, size_t, rdb_elem_fn *, void *, size_t *);

/* Read an RDB string holding a blob and walk it. *count: its elements. */
static int load_blob(rdb_reader_t *r, buf_t *tmp, blob_walk_fn *walk, rdb_elem_fn *fn,
                     builder_t *bd, size_t *count)
{
    if (rdb_get_string(r, tmp) != 0)
        return -1;
    int rc = walk((const unsigned char *)tmp->data, tmp->len, fn, bd, count);
    return rc ? -1 : 0;
}

/* A blob of field/value or member/score pairs: an even, nonzero count. */
static int load_pairs_blob(rdb_reader_t *r, buf_t *tmp, blob_walk_fn *walk, rdb_elem_fn *fn,
                           builder_t *bd)
{
    size_t cnt;
    if (rdb_get_string(r, tmp) != 0)
        return -1;
    const unsigned char *p = (const unsigned char *)tmp->data;
    if (walk(p, tmp->len, NULL, NULL, &cnt) != 0 || cnt == 0 || cnt % 2)
        return -1;
    return walk(p, tmp->len, fn, bd, &cnt) ? -1 : 0;
}

static int load_string(rdb_reader_t *r, int type, builder_t *bd, buf_t *tmp)
{
    if (rdb_get_string(r, tmp) != 0)
        return -1;
    obj_t *o = bd->o;
    long long v;
    memset(o, 0, sizeof *o);
    o->type = OBJ_STRING;
    if (tmp->len <= 20 && str_to_ll(tmp->data, tmp->len, &v) == 0) {
        o->enc = ENC_INT; /* as db_set_string keeps a canonical integer */
        o->v.i = v;
        return 0;
    }
    *o = obj_make_str(tmp->data, tmp->len);
    return 0;
}

static int load_list(rdb_reader_t *r, int type, builder_t *bd, buf_t *tmp)
{
    uint64_t n, container;
    size_t cnt;
    *bd->o = obj_make(OBJ_LIST, list_new());
    switch (type) {
    case RDB_TYPE_LIST:
        if (rdb_get_len(r, &n) != 0)
            return -1;
        for (uint64_t i = 0; i < n; i++) {
            if (rdb_get_string(r, tmp) != 0)
                return -1;
            add_list(bd, (sv_t){tmp->data, tmp->len});
        }
        return 0;
    case RDB_TYPE_LIST_ZIPLIST:
        return load_blob(r, tmp, rdb_ziplist_walk, list_elem_cb, bd, &cnt);
    case RDB_TYPE_LIST_QUICKLIST:
    case RDB_TYPE_LIST_QUICKLIST_2:
        if (rdb_get_len(r, &n) != 0)
            return -1;
        for (uint64_t i = 0; i < n; i++) {
            container = QL_PACKED;
            if (type == RDB_TYPE_LIST_QUICKLIST_2 && rdb_get_len(r, &container) != 0)
                return -1;
            if (container == QL_PLAIN) {
                if (rdb_get_string(r, tmp) != 0)
                    return -1;
                add_list(bd, (sv_t){tmp->data, tmp->len});
            } else if (container != QL_PACKED ||
                       load_blob(r, tmp,
                                 type == RDB_TYPE_LIST_QUICKLIST ? rdb_ziplist_walk
                                                                 : rdb_listpack_walk,
                                 list_elem_cb, bd, &cnt) != 0) {
                return -1;
            }
        }
        return 0;
    default: return -1;
    }
}

static int load_set(rdb_reader_t *r, int type, builder_t *bd, buf_t *tmp)
{
    uint64_t n;
    size_t cnt;
    *bd->o = obj_make(OBJ_SET, set_new());
    if (type == RDB_TYPE_SET_INTSET)
        return load_blob(r, tmp, rdb_intset_walk, set_elem_cb, bd, &cnt);
    if (rdb_get_len(r, &n) != 0)
        return -1;
    for (uint64_t i = 0; i < n; i++)
        if (rdb_get_string(r, tmp) != 0 || add_set(bd, (sv_t){tmp->data, tmp->len}) != 0)
            return -1;
    return 0;
}

static int load_zset(rdb_reader_t *r, int type, builder_t *bd, buf_t *tmp)
{
    uint64_t n;
    *bd->o = obj_make(OBJ_ZSET, zset_new());
    if (type == RDB_TYPE_ZSET_ZIPLIST)
        return load_pairs_blob(r, tmp, rdb_ziplist_walk, zset_elem_cb, bd);
    if (type == RDB_TYPE_ZSET_LISTPACK)
        return load_pairs_blob(r, tmp, rdb_listpack_walk, zset_elem_cb, bd);
    if (rdb_get_len(r, &n) != 0)
        return -1;
    for (uint64_t i = 0; i < n; i++) {
        double score;
        if (rdb_get_string(r, tmp) != 0)
            return -1;
        int rc = type == RDB_TYPE_ZSET_2 ? rdb_get_double_bin(r, &score)
                                         : rdb_get_double_text(r, &score);
        if (rc != 0 || add_zset(bd, (sv_t){tmp->data, tmp->len}, score) != 0)
            return -1;
    }
    zset_settle(bd->o->v.ptr);
    return 0;
}

static int load_hash(rdb_reader_t *r, int type, builder_t *bd, buf_t *tmp)
{
    uint64_t n;
    *bd->o = obj_make(OBJ_HASH, hash_new());
    if (type == RDB_TYPE_HASH_ZIPMAP)
        return load_pairs_blob(r, tmp, rdb_zipmap_walk, hash_elem_cb, bd);
    if (type == RDB_TYPE_HASH_ZIPLIST)
        return load_pairs_blob(r, tmp, rdb_ziplist_walk, hash_elem_cb, bd);
    if (type == RDB_TYPE_HASH_LISTPACK)
        return load_pairs_blob(r, tmp, rdb_listpack_walk, hash_elem_cb, bd);
    if (rdb_get_len(r, &n) != 0)
        return -1;
    for (uint64_t i = 0; i < n; i++) {
        if (rdb_get_string(r, tmp) != 0)
            return -1;
        bd->pend.len = 0;
        buf_append(&bd->pend, tmp->data, tmp->len);
        if (rdb_get_string(r, tmp) != 0 ||
            add_hash(bd, (sv_t){bd->pend.data, bd->pend.len}, (sv_t){tmp->data, tmp->len}) != 0)
            return -1;
    }
    return 0;
}

/* ---- the per-type tables ------------------------------------------------------ */

typedef void save_fn(buf_t *b, const obj_t *o);
typedef int load_fn(rdb_reader_t *r, int type, builder_t *bd, buf_t *tmp);

static void save_stream(buf_t *b, const obj_t *o)
{
    rdb_save_stream(b, o->v.ptr);
}

static int load_stream(rdb_reader_t *r, int type, builder_t *bd, buf_t *tmp)
{
    return rdb_load_stream(r, type, bd->o, tmp);
}

/* Indexed by obj_type (object.h). */
static save_fn *const savers[] = {
    [OBJ_STREAM] = save_stream,
    [OBJ_STRING] = save_string,
    [OBJ_LIST] = save_list,
    [OBJ_SET] = save_set,
    [OBJ_ZSET] = save_zset,
    [OBJ_HASH] = save_hash,
};

/* Indexed by RDB type: every encoding redis-server 7.0 loads for the types
 * percore has. */
static load_fn *const loaders[] = {
    [RDB_TYPE_STRING] = load_string,
    [RDB_TYPE_LIST] = load_list,
    [RDB_TYPE_LIST_ZIPLIST] = load_list,
    [RDB_TYPE_LIST_QUICKLIST] = load_list,
    [RDB_TYPE_LIST_QUICKLIST_2] = load_list,
    [RDB_TYPE_SET] = load_set,
    [RDB_TYPE_SET_INTSET] = load_set,
    [RDB_TYPE_ZSET] = load_zset,
    [RDB_TYPE_ZSET_2] = load_zset,
    [RDB_TYPE_ZSET_ZIPLIST] = load_zset,
    [RDB_TYPE_ZSET_LISTPACK] = load_zset,
    [RDB_TYPE_HASH] = load_hash,
    [RDB_TYPE_HASH_ZIPMAP] = load_hash,
    [RDB_TYPE_HASH_ZIPLIST] = load_hash,
    [RDB_TYPE_HASH_LISTPACK] = load_hash,
    [RDB_TYPE_STREAM_LISTPACKS] = load_stream,
    [RDB_TYPE_STREAM_LISTPACKS_2] = load_stream,
};

int rdb_save_object(buf_t *b, const obj_t *o)
{
    if (o->type >= sizeof savers / sizeof savers[0] || !savers[o->type])
        return -1;
    savers[o->type](b, o);
    return 0;
}

int rdb_is_value_type(int type)
{
    return type >= 0 && (size_t)type < sizeof loaders / sizeof loaders[0] && loaders[type];
}

int rdb_load_object(rdb_reader_t *r, obj_t *o)
{
    int type;
    if (rdb_get_type(r, &type) != 0)
        return -1;
    return rdb_load_value(r, type, o);
}

int rdb_load_value(rdb_reader_t *r, int type, obj_t *o)
{
    if (!rdb_is_value_type(type))
        return -1;
    builder_t bd = {.o = o};
    buf_t tmp;
    buf_init(&tmp);
    buf_init(&bd.pend);
    memset(o, 0, sizeof *o);
    int rc = loaders[type](r, type, &bd, &tmp);
    buf_free(&tmp);
    buf_free(&bd.pend);
    if (rc == 0 && obj_is_empty(o))
        rc = -1; /* an empty aggregate never exists (Redis: "Bad data format") */
    if (rc != 0)
        obj_free(o);
    return rc;
}

int rdb_dump_object(buf_t *b, const obj_t *o)
{
    if (rdb_save_object(b, o) != 0)
        return -1;
    rdb_put_frame(b);
    return 0;
}

int rdb_restore_object(const void *p, size_t n, obj_t *o)
{
    rdb_reader_t r;
    if (rdb_check_frame(p, n, &r) != 0)
        return -1;
    return rdb_load_object(&r, o) == 0 ? 0 : -2;
}
