/* t_zset — the sorted set type: a skiplist ordered by (score, member) plus a
 * table member -> node (t_zset.c), and Redis's score and lex range rules. A
 * sorted set is one allocation pointed to by obj_t.v.ptr; everything it owns
 * is counted in its `mem` field as mem_alloc_size() of each allocation.
 *
 * The data-structure layer: includes only util.h, buf.h, its sibling t_*.h
 * and system headers; the object module and the commands call it. Nothing
 * here locks: callers hold the partition of the value's key (see db.h). */
#ifndef PERCORE_T_ZSET_H
#define PERCORE_T_ZSET_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "t_htab.h"

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

/* Bytes the sorted set owns (obj_mem). */
size_t zset_mem(const zset_t *z);

#endif
