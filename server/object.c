#include "object.h"

#include <stdlib.h>
#include <string.h>

#include "t_hash.h"
#include "t_list.h"
#include "t_set.h"
#include "t_stream.h"
#include "t_zset.h"

const char *obj_type_name(int type)
{
    switch (type) {
    case OBJ_STRING: return "string";
    case OBJ_LIST: return "list";
    case OBJ_SET: return "set";
    case OBJ_ZSET: return "zset";
    case OBJ_HASH: return "hash";
    case OBJ_STREAM: return "stream";
    default: return "none";
    }
}

sv_t obj_str(const obj_t *o, char tmp[24])
{
    if (o->type != OBJ_STRING)
        return (sv_t){"", 0};
    if (o->enc == ENC_INT) {
        int n = ll_to_str(tmp, o->v.i);
        return (sv_t){tmp, (size_t)n};
    }
    /* An empty string may have no buffer at all; never hand out NULL. */
    if (obj_slen(o) == 0)
        return (sv_t){"", 0};
    return (sv_t){o->v.p, obj_slen(o)};
}

int obj_str_to_ll(const obj_t *o, long long *out)
{
    if (o->type != OBJ_STRING)
        return -1;
    if (o->enc == ENC_INT) {
        *out = o->v.i;
        return 0;
    }
    return str_to_ll(o->v.p, obj_slen(o), out);
}

int obj_str_to_ld(const obj_t *o, long double *out)
{
    if (o->type != OBJ_STRING)
        return -1;
    if (o->enc == ENC_INT) {
        *out = (long double)o->v.i;
        return 0;
    }
    return str_to_ld(o->v.p, obj_slen(o), out);
}

int obj_is_empty(const obj_t *o)
{
    if (o->type == OBJ_STRING)
        return 0;
    if (o->v.ptr == NULL)
        return 1;
    switch (o->type) {
    case OBJ_LIST: return list_len(o->v.ptr) == 0;
    case OBJ_HASH: return hash_len(o->v.ptr) == 0;
    case OBJ_SET: return set_len(o->v.ptr) == 0;
    case OBJ_ZSET: return zset_len(o->v.ptr) == 0;
    case OBJ_STREAM: return 0; /* an empty stream is a value (XDEL, MKSTREAM), as Redis */
    default: return 1;
    }
}

void obj_free(obj_t *o)
{
    switch (o->type) {
    case OBJ_STRING:
        if (o->enc == ENC_RAW)
            free(o->v.p);
        break;
    case OBJ_LIST: list_free(o->v.ptr); break;
    case OBJ_HASH: hash_free(o->v.ptr); break;
    case OBJ_SET: set_free(o->v.ptr); break;
    case OBJ_ZSET: zset_free(o->v.ptr); break;
    case OBJ_STREAM: stream_free(o->v.ptr); break;
    default: break;
    }
    memset(o, 0, sizeof *o);
    o->type = OBJ_STRING;
    o->enc = ENC_INT;
}

size_t obj_mem(const obj_t *o)
{
    if (o->type == OBJ_STRING)
        return o->enc == ENC_RAW ? obj_scap(o) : 0;
    if (o->v.ptr == NULL)
        return 0;
    switch (o->type) {
    case OBJ_LIST: return list_mem(o->v.ptr);
    case OBJ_HASH: return hash_mem(o->v.ptr);
    case OBJ_SET: return set_mem(o->v.ptr);
    case OBJ_ZSET: return zset_mem(o->v.ptr);
    case OBJ_STREAM: return stream_mem(o->v.ptr);
    default: return 0;
    }
}

/* Redis 7.0's encoding names for percore's representations:
 *  string  ENC_INT (a 64-bit integer held inline) -> "int", as Redis's int
 *          encoding; ENC_RAW is one separate buffer whatever its length, so
 *          the name follows Redis's rule for a freshly set value instead:
 *          up to 44 bytes (OBJ_ENCODING_EMBSTR_SIZE_LIMIT) "embstr", else
 *          "raw";
 *  list    a ring of elements (t_list.h) -> "quicklist", Redis 7.0's only
 *          list encoding;
 *  hash    packed pairs (t_hash.h: hash_is_small) -> "listpack", table ->
 *          "hashtable", the same thresholds as Redis's conversion;
 *  set     sorted int array (t_set.h: set_t.ints) -> "intset", table ->
 *          "hashtable";
 *  zset    small (t_zset.h: zset_t.big == 0) -> "listpack", else "skiplist";
 *  stream  packed nodes (t_stream.h) -> "stream", Redis's only stream encoding. */
const char *obj_encoding_name(const obj_t *o)
{
    switch (o->type) {
    case OBJ_STRING:
        if (o->enc == ENC_INT)
            return "int";
        return obj_slen(o) <= 44 ? "embstr" : "raw";
    case OBJ_LIST: return "quicklist";
    case OBJ_HASH: return hash_is_small(o->v.ptr) ? "listpack" : "hashtable";
    case OBJ_SET: return ((const set_t *)o->v.ptr)->ints ? "intset" : "hashtable";
    case OBJ_ZSET: return ((const zset_t *)o->v.ptr)->big ? "skiplist" : "listpack";
    case OBJ_STREAM: return "stream";
    default: return "unknown";
    }
}

static void *list_dup(const list_t *src)
{
    list_t *l = list_new();
    for (size_t i = 0; i < list_len(src); i++) {
        sv_t e = list_at(src, i);
        list_push(l, LIST_TAIL, e.p, e.len);
    }
    return l;
}

static void *hash_dup(const hash_t *src)
{
    hash_t *h = hash_new();
    hash_iter_t it = {0, NULL};
    hfield_t f;
    while (hash_next(src, &it, &f))
        hash_set(&h, f.f.p, f.f.len, f.v.p, f.v.len);
    return h;
}

static void *set_dup(const set_t *src)
{
    set_t *s = set_new();
    set_iter_t it = {0};
    sv_t m;
    while (set_next(src, &it, &m))
        set_add(s, m.p, m.len);
    return s;
}

static void *zset_dup(const zset_t *src)
{
    zset_t *z = zset_new();
    /* Big before the inserts, so every score is kept exactly as the source
     * holds it (a small set normalises -0, see t_zset.h). */
    z->big = src->big;
    for (znode_t *x = zset_first(src); x; x = zn_next(x)) {
        sv_t m = zn_member(x);
        zset_insert(z, m.p, m.len, x->score);
    }
    return z;
}

void obj_dup(const obj_t *o, obj_t *out)
{
    *out = *o;
    switch (o->type) {
    case OBJ_STRING:
        if (o->enc == ENC_RAW)
            *out = obj_make_str(o->v.p, obj_slen(o));
        break;
    case OBJ_LIST: out->v.ptr = list_dup(o->v.ptr); break;
    case OBJ_HASH: out->v.ptr = hash_dup(o->v.ptr); break;
    case OBJ_SET: out->v.ptr = set_dup(o->v.ptr); break;
    case OBJ_ZSET: out->v.ptr = zset_dup(o->v.ptr); break;
    case OBJ_STREAM: out->v.ptr = stream_dup(o->v.ptr); break;
    default: break;
    }
}
