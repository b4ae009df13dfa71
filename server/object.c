#include "object.h"

#include <stdlib.h>
#include <string.h>

#include "t_hash.h"
#include "t_list.h"
#include "t_set.h"
#include "t_zset.h"

const char *obj_type_name(int type)
{
    switch (type) {
    case OBJ_STRING: return "string";
    case OBJ_LIST: return "list";
    case OBJ_SET: return "set";
    case OBJ_ZSET: return "zset";
    case OBJ_HASH: return "hash";
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
    if (o->v.s.len == 0)
        return (sv_t){"", 0};
    return (sv_t){o->v.s.p, o->v.s.len};
}

int obj_str_to_ll(const obj_t *o, long long *out)
{
    if (o->type != OBJ_STRING)
        return -1;
    if (o->enc == ENC_INT) {
        *out = o->v.i;
        return 0;
    }
    return str_to_ll(o->v.s.p, o->v.s.len, out);
}

int obj_str_to_ld(const obj_t *o, long double *out)
{
    if (o->type != OBJ_STRING)
        return -1;
    if (o->enc == ENC_INT) {
        *out = (long double)o->v.i;
        return 0;
    }
    return str_to_ld(o->v.s.p, o->v.s.len, out);
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
    default: return 1;
    }
}

void obj_free(obj_t *o)
{
    switch (o->type) {
    case OBJ_STRING:
        if (o->enc == ENC_RAW)
            free(o->v.s.p);
        break;
    case OBJ_LIST: list_free(o->v.ptr); break;
    case OBJ_HASH: hash_free(o->v.ptr); break;
    case OBJ_SET: set_free(o->v.ptr); break;
    case OBJ_ZSET: zset_free(o->v.ptr); break;
    default: break;
    }
    memset(o, 0, sizeof *o);
    o->type = OBJ_STRING;
    o->enc = ENC_INT;
}

size_t obj_mem(const obj_t *o)
{
    if (o->type == OBJ_STRING)
        return o->enc == ENC_RAW && o->v.s.cap ? mem_alloc_size(o->v.s.cap) : 0;
    if (o->v.ptr == NULL)
        return 0;
    switch (o->type) {
    case OBJ_LIST: return list_mem(o->v.ptr);
    case OBJ_HASH: return hash_mem(o->v.ptr);
    case OBJ_SET: return set_mem(o->v.ptr);
    case OBJ_ZSET: return zset_mem(o->v.ptr);
    default: return 0;
    }
}
