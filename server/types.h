/* types — the aggregate value types: lists, hashes, sets and sorted sets.
 *
 * The data structures live in t_<type>.c (plus t_htab.c, the byte-string hash
 * table the hash, set and sorted set share); the commands in cmd_<type>.c. An
 * aggregate is one allocation pointed to by obj_t.v.ptr; everything it owns is
 * counted in its `mem` field as mem_alloc_size() of each allocation, so obj_mem
 * is O(1) and always matches what was allocated and not yet freed.
 *
 * Nothing here locks: a value is touched only by the holder of its key's
 * partition (see db.h). Elements are binary-safe byte strings. */
#ifndef PERCORE_TYPES_H
#define PERCORE_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cmd_util.h"
#include "command.h"
#include "db.h"
#include "object.h"

/* The command rows of each type (registered in command.c's group list). */
extern const command_t cmds_list[];
extern const command_t cmds_hash[];
extern const command_t cmds_set[];
extern const command_t cmds_zset[];

/* ---- helpers shared by the type modules --------------------------------- */

/* A random 64-bit number from a per-thread generator (HRANDFIELD, SPOP ...). */
uint64_t t_rand(void);

/* Redis 7.0's compact-encoding limits, used to decide when the small encodings
 * convert and when *SCAN returns a whole small value in one call. */
#define HASH_SMALL_ENTRIES 128
#define HASH_SMALL_VALUE 64
#define SET_INTS_ENTRIES 512
#define ZSET_SMALL_ENTRIES 128
#define ZSET_SMALL_VALUE 64

/* ---- htab: chained hash table of byte-string keys ------------------------- */

/* The header every table entry starts with; the key bytes are owned by the
 * entry (key points inside the same allocation). */
typedef struct hnode {
    struct hnode *next;
    const char *key;
    size_t klen;
} hnode_t;

/* Power-of-two bucket arrays, grown at load 1 and shrunk at load 1/8. While
 * a resize is in progress b[1] is the new table and b[0]'s buckets below
 * rehashidx have moved there; each insert or unlink moves a few more. Zeroed
 * is empty. Lookups, iteration and scans never move anything. */
typedef struct htab {
    hnode_t **b[2];
    size_t mask[2]; /* buckets - 1 */
    size_t n;       /* entries in both */
    size_t rehashidx;
} htab_t;

hnode_t *htab_find(const htab_t *t, const char *k, size_t n);
/* Link an entry whose key is not in the table yet. */
void htab_insert(htab_t *t, hnode_t *e);
/* Unlink the entry with this key and return it (NULL if absent). */
hnode_t *htab_unlink(htab_t *t, const char *k, size_t n);
/* Put e in the place of old (same key), e.g. after reallocating an entry. */
void htab_replace(htab_t *t, hnode_t *old, hnode_t *e);
/* Bytes of the bucket array. */
size_t htab_mem(const htab_t *t);
/* Free the bucket array (entries are the caller's) and reset. */
void htab_release(htab_t *t);
/* A random entry (NULL when empty): a random non-empty bucket, then a random
 * element of its chain, as Redis's dictGetRandomKey. */
hnode_t *htab_random(const htab_t *t);
/* Reverse-binary cursor scan as Redis's dictScan: visits the bucket at cursor
 * and returns the next cursor (0: done). Every entry present for the whole
 * scan is visited at least once, across resizes. */
typedef void htab_scan_fn(void *arg, hnode_t *e);
uint64_t htab_scan(const htab_t *t, uint64_t cursor, htab_scan_fn *fn, void *arg);
/* Up to count distinct random entries into out (all of them, in table order,
 * when count >= n); returns how many. O(count) for a small share of the table,
 * one O(n) pass otherwise. */
size_t htab_random_distinct(const htab_t *t, hnode_t **out, size_t count);
/* min(count, n) distinct random indexes of [0, n), ascending (one O(n) pass:
 * for the small array encodings). */
size_t rand_distinct_indexes(size_t n, size_t *out, size_t count);
/* Iteration in bucket order: start with *bucket = 0, e = NULL. */
hnode_t *htab_next(const htab_t *t, size_t *bucket, hnode_t *e);

/* ---- list: a ring of byte strings --------------------------------------- */

typedef struct lelem {
    size_t len;
    char p[];
} lelem_t;

typedef struct list {
    lelem_t **a; /* ring; capacity a power of two */
    size_t cap, head, n;
    size_t mem;
} list_t;

enum { LIST_HEAD = 0, LIST_TAIL = 1 };

list_t *list_new(void);
void list_free(list_t *l);
static inline size_t list_len(const list_t *l) { return l->n; }
static inline lelem_t *list_elem(const list_t *l, size_t i)
{
    return l->a[(l->head + i) & (l->cap - 1)];
}
static inline sv_t list_at(const list_t *l, size_t i)
{
    lelem_t *e = list_elem(l, i);
    return (sv_t){e->p, e->len};
}
void list_push(list_t *l, int where, const char *p, size_t n);
/* Detach / attach an element without copying it (LMOVE); the element's
 * memory leaves one list's account and enters the other's. */
lelem_t *list_pop(list_t *l, int where);
void list_push_elem(list_t *l, int where, lelem_t *e);
void lelem_free(lelem_t *e);
void list_set(list_t *l, size_t i, const char *p, size_t n);
/* Insert before logical position i (i == len appends). */
void list_insert(list_t *l, size_t i, const char *p, size_t n);
/* Keep only elements [start, start+count). */
void list_trim(list_t *l, size_t start, size_t count);
/* LREM: remove up to count (0: all) elements equal to p, from the head, or
 * from the tail when from_tail; returns how many. */
size_t list_remove_matching(list_t *l, const char *p, size_t n, size_t count, int from_tail);

/* ---- hash: field -> value ------------------------------------------------ */

typedef struct hfield {
    hnode_t n; /* n.key: the field */
    size_t vlen;
    char data[]; /* field bytes, then value bytes */
} hfield_t;

typedef struct hash {
    int small;     /* array encoding: insertion order, linear search */
    hfield_t **a;  /* small: the fields in order */
    size_t n, cap; /* small */
    htab_t tab;    /* !small */
    size_t mem;
} hash_t;

static inline sv_t hf_field(const hfield_t *e) { return (sv_t){e->n.key, e->n.klen}; }
static inline sv_t hf_value(const hfield_t *e)
{
    return (sv_t){e->data + e->n.klen, e->vlen};
}

hash_t *hash_new(void);
void hash_free(hash_t *h);
size_t hash_len(const hash_t *h);
hfield_t *hash_get(const hash_t *h, const char *f, size_t flen);
/* 1 when the field is new, 0 when its value was replaced. */
int hash_set(hash_t *h, const char *f, size_t flen, const char *v, size_t vlen);
int hash_del(hash_t *h, const char *f, size_t flen);
/* Iteration: i = 0, e = NULL to start; NULL at the end. No changes meanwhile. */
typedef struct hash_iter {
    size_t i;
    hnode_t *e;
} hash_iter_t;
hfield_t *hash_next(const hash_t *h, hash_iter_t *it);
hfield_t *hash_random(const hash_t *h);
/* min(count, len) distinct random fields into out (in iteration order). */
size_t hash_random_distinct(const hash_t *h, hfield_t **out, size_t count);
/* HSCAN: a small hash is visited whole in one call (cursor 0 back), as Redis
 * does for its listpack encoding. */
uint64_t hash_scan(const hash_t *h, uint64_t cursor, void (*fn)(void *, hfield_t *), void *arg,
                   long long count);

/* ---- set: members, as a sorted int array or a table ---------------------- */

typedef struct smember {
    hnode_t n;
    char p[];
} smember_t;

typedef struct set {
    int ints;          /* every member is an integer (as Redis's intset) */
    int64_t *iv;       /* ints: sorted */
    size_t n, cap;     /* ints */
    htab_t tab;        /* !ints */
    size_t mem;
} set_t;

set_t *set_new(void);
void set_free(set_t *s);
size_t set_len(const set_t *s);
int set_add(set_t *s, const char *p, size_t n);    /* 1 if added */
int set_remove(set_t *s, const char *p, size_t n); /* 1 if removed */
int set_has(const set_t *s, const char *p, size_t n);
/* Iteration; a member of an int set is formatted into it->tmp. */
typedef struct set_iter {
    size_t i;
    hnode_t *e;
    char tmp[24];
} set_iter_t;
int set_next(const set_t *s, set_iter_t *it, sv_t *out);
/* A random member (the set is not empty), formatted into tmp when needed. */
sv_t set_random(const set_t *s, char tmp[24]);
/* min(count, len) distinct random members, copied into items as scan_push
 * does (length-prefixed); returns how many. */
size_t set_random_distinct(const set_t *s, size_t count, buf_t *items);
uint64_t set_scan(const set_t *s, uint64_t cursor, void (*fn)(void *, sv_t), void *arg,
                  long long count);

/* ---- zset: skiplist ordered by (score, member) + table member -> node ---- */

#define ZSKIPLIST_MAXLEVEL 32

typedef struct znode {
    hnode_t n; /* n.key: the member (stored after the levels) */
    double score;
    struct znode *back;
    int level;
    struct zlevel {
        struct znode *fwd;
        size_t span;
    } lvl[];
} znode_t;

/* `big` mirrors Redis 7.0's listpack -> skiplist conversion, the one place
 * it shows: while small (at most ZSET_SMALL_ENTRIES members of at most
 * ZSET_SMALL_VALUE bytes) a score is stored as Redis's listpack would keep
 * it (-0 reads back as 0) and ZSCAN answers whole. Once big, always big. */
typedef struct zset {
    htab_t tab;
    znode_t *head, *tail;
    size_t len;
    int level;
    int big;
    size_t mem;
} zset_t;

/* Score range: min/max with exclusive flags (ZRANGEBYSCORE "(1" "+inf"). */
typedef struct zrange_spec {
    double min, max;
    int minex, maxex;
} zrange_spec_t;

/* Lex range: "[a" "(a" "-" "+"; inf: -1 for "-", 1 for "+", 0 for a string. */
typedef struct zlex_spec {
    sv_t min, max;
    int minex, maxex;
    int mininf, maxinf;
} zlex_spec_t;

static inline sv_t zn_member(const znode_t *x) { return (sv_t){x->n.key, x->n.klen}; }

zset_t *zset_new(void);
void zset_free(zset_t *z);
static inline size_t zset_len(const zset_t *z) { return z->len; }
znode_t *zset_find(const zset_t *z, const char *m, size_t n);
/* Add a member that is not in the set. */
znode_t *zset_insert(zset_t *z, const char *m, size_t n, double score);
/* A computed result (ZUNIONSTORE...) is built big (every score kept as is)
 * and settles to small when it fits, as Redis converts its results. */
void zset_settle(zset_t *z);
/* Change a node's score, moving it in the order when needed. */
void zset_update(zset_t *z, znode_t *x, double score);
void zset_delete(zset_t *z, znode_t *x);
/* 0-based rank of a node from the lowest score. */
size_t zset_rank(const zset_t *z, const znode_t *x);
/* The node of 0-based rank r (r < len). */
znode_t *zset_at(const zset_t *z, size_t r);
static inline znode_t *zset_first(const zset_t *z) { return z->head->lvl[0].fwd; }
static inline znode_t *zn_next(const znode_t *x) { return x->lvl[0].fwd; }

int zrange_parse(sv_t min, sv_t max, zrange_spec_t *r);
int zlex_parse(sv_t min, sv_t max, zlex_spec_t *r);
int zscore_gte_min(double v, const zrange_spec_t *r);
int zscore_lte_max(double v, const zrange_spec_t *r);
int zlex_gte_min(sv_t m, const zlex_spec_t *r);
int zlex_lte_max(sv_t m, const zlex_spec_t *r);
/* First / last node within a range, or NULL. */
znode_t *zset_first_in_score(const zset_t *z, const zrange_spec_t *r);
znode_t *zset_last_in_score(const zset_t *z, const zrange_spec_t *r);
znode_t *zset_first_in_lex(const zset_t *z, const zlex_spec_t *r);
znode_t *zset_last_in_lex(const zset_t *z, const zlex_spec_t *r);
uint64_t zset_scan(const zset_t *z, uint64_t cursor, void (*fn)(void *, znode_t *), void *arg,
                   long long count);

/* ---- sorted set commands split over cmd_zset.c and cmd_zset_ops.c --------- */

/* Reply n scored elements: the header, then each member (with its score as a
 * double when withscores: flat in RESP2, [member, score] pairs in RESP3). */
void zreply_header(cmd_ctx_t *c, long n, int withscores);
void zreply_elem(cmd_ctx_t *c, sv_t m, double score, int withscores);
cmd_handler zpopmin_command, zpopmax_command, zrandmember_command, zscan_command;
cmd_handler zunionstore_command, zinterstore_command, zdiffstore_command;
cmd_handler zunion_command, zinter_command, zdiff_command, zintercard_command;
cmd_keys_fn zstore_keys, zsetop_keys;

/* ---- obj_t hooks (object.c) -------------------------------------------- */

size_t list_mem(const list_t *l);
size_t hash_mem(const hash_t *h);
size_t set_mem(const set_t *s);
size_t zset_mem(const zset_t *z);

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

/* ---- SCAN-family arguments shared by HSCAN, SSCAN and ZSCAN --------------- */

typedef struct scan_opts {
    sv_t pat;
    int use_pat;
    long long count;
} scan_opts_t;

/* Parse "[MATCH pattern] [COUNT count]" from argument `first`; replies the
 * error and returns -1 when invalid. */
int scan_opts_parse(cmd_ctx_t *c, int first, scan_opts_t *o);
static inline int scan_match(const scan_opts_t *o, sv_t s)
{
    return !o->use_pat || glob_match(o->pat.p, o->pat.len, s.p, s.len, 0);
}
/* Reply [cursor, [items...]] from a buffer of length-prefixed strings. */
void scan_reply(cmd_ctx_t *c, uint64_t cursor, const buf_t *items, long nitems);
/* Append one length-prefixed string to a scan result buffer. */
void scan_push(buf_t *items, const char *p, size_t n);
/* Walk such a buffer: *off starts at 0; 0 at the end. */
static inline int items_next(const buf_t *items, size_t *off, sv_t *out)
{
    size_t n;
    if (*off >= items->len)
        return 0;
    memcpy(&n, items->data + *off, sizeof n);
    *out = (sv_t){items->data + *off + sizeof n, n};
    *off += sizeof n + n;
    return 1;
}

/* ---- lookups shared by the command files --------------------------------- */

/* Look key up for a command on type `type`: *out is the value or NULL when the
 * key is missing; returns -1 (after replying WRONGTYPE) when it holds another
 * type. */
static inline int t_lookup(cmd_ctx_t *c, sv_t key, int type, int flags, obj_t **out)
{
    obj_t *o = db_lookup(c, key, flags);
    if (o && o->type != type) {
        reply_error(c->r, ERR_WRONGTYPE);
        return -1;
    }
    *out = o;
    return 0;
}

#endif
