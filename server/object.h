/* object — the value stored under a key (obj_t): a string's bytes or integer
 * inline, or a pointer to an aggregate of the data-structure layer
 * (t_list.h, t_hash.h, t_set.h, t_zset.h), with the type-generic operations
 * on it (free, emptiness, memory, string conversions).
 *
 * Above the data structures and below the store (dict.h embeds obj_t):
 * object.c calls the structures' free/len/mem functions, and they never call
 * it. Callers hold the partition of the value's key. */
#ifndef PERCORE_OBJECT_H
#define PERCORE_OBJECT_H

#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "util.h"

enum obj_type { OBJ_STRING = 0, OBJ_LIST, OBJ_SET, OBJ_ZSET, OBJ_HASH, OBJ_STREAM };
enum obj_enc { ENC_INT = 0, ENC_RAW };

/* Lives inside its key's dict entry (no allocation of its own); string bytes
 * are a separate allocation unless the value is a 64-bit integer (ENC_INT).
 * 16 bytes (it is in every key's entry): an ENC_RAW string's length is 40
 * bits in slen_hi:slen (proto-max-bulk-len's ceiling, 16 GB, is far below
 * 2^40), and its buffer's capacity is named by its size class (util.h's
 * mem_class_index) since buffers are always allocated whole classes. Use the
 * obj_slen / obj_set_slen / obj_scap / obj_str_reserve helpers below. */
typedef struct obj {
    uint8_t type;
    uint8_t enc;
    uint8_t scap;    /* ENC_RAW: 0 no buffer, else 1 + the buffer's class index */
    uint8_t slen_hi; /* ENC_RAW: length bits 32..39 */
    uint32_t slen;   /* ENC_RAW: length bits 0..31 */
    union {
        long long i;
        char *p; /* ENC_RAW string bytes (NULL when scap is 0) */
        void *ptr;
    } v;
} obj_t;

_Static_assert(sizeof(obj_t) == 16, "obj_t is in every dict entry");
#define OBJ_STR_MAX (((size_t)1 << 40) - 1)

static inline size_t obj_slen(const obj_t *o)
{
    return (size_t)o->slen_hi << 32 | o->slen;
}
static inline void obj_set_slen(obj_t *o, size_t n)
{
    o->slen = (uint32_t)n;
    o->slen_hi = (uint8_t)(n >> 32);
}
/* Bytes an ENC_RAW string's buffer holds (0: none). */
static inline size_t obj_scap(const obj_t *o)
{
    return o->scap ? mem_class_size(o->scap - 1u) : 0;
}
/* Give an ENC_RAW string's buffer room for at least cap (> 0) bytes, its
 * whole size class, keeping its bytes. The length is the caller's. */
static inline void obj_str_reserve(obj_t *o, size_t cap)
{
    size_t c = mem_alloc_size(cap);
    o->v.p = xrealloc(o->v.p, c);
    o->scap = (uint8_t)(1 + mem_class_index(c));
}
/* A fresh ENC_RAW string holding a copy of p[0..n) (no buffer when n is 0). */
static inline obj_t obj_make_str(const char *p, size_t n)
{
    obj_t o;
    memset(&o, 0, sizeof o);
    o.type = OBJ_STRING;
    o.enc = ENC_RAW;
    if (n) {
        obj_str_reserve(&o, n);
        memcpy(o.v.p, p, n);
        obj_set_slen(&o, n);
    }
    return o;
}

/* "string", "list", ... as TYPE answers. */
const char *obj_type_name(int type);

/* The bytes of a string value; an ENC_INT value is formatted into tmp (>= 24 bytes). */
sv_t obj_str(const obj_t *o, char tmp[24]);

/* Parse a string value as a Redis integer / float (strict: no spaces, no
 * trailing bytes, in range). Return 0 on success, -1 if not a number. */
int obj_str_to_ll(const obj_t *o, long long *out);
int obj_str_to_ld(const obj_t *o, long double *out);

/* Release what a value owns outside its dict entry (string bytes; other types
 * add their case) and leave it an empty ENC_INT 0. */
void obj_free(obj_t *o);
/* 1 for an aggregate with no elements (never stored). Strings: 0. */
int obj_is_empty(const obj_t *o);
/* Bytes a value owns outside its entry, as the memory accounts count them. */
size_t obj_mem(const obj_t *o);

/* OBJECT ENCODING's name for how percore holds o, mapped to Redis 7.0's
 * names (the mapping is documented at its definition, object.c). */
const char *obj_encoding_name(const obj_t *o);
/* A deep copy of o into *out, owning its own memory (COPY). */
void obj_dup(const obj_t *o, obj_t *out);

/* New objects holding a fresh, empty value (for db_add / db_set_obj). */
static inline obj_t obj_make(int type, void *ptr)
{
    obj_t o;
    memset(&o, 0, sizeof o);
    o.type = (uint8_t)type;
    o.enc = ENC_RAW;
    o.v.ptr = ptr;
    return o;
}

#endif
