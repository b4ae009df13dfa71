/* cmd_zset — the sorted set commands: adding and scoring, ranks, counts, the
 * ZRANGE family (one zrange_generic for ZRANGE, ZRANGESTORE and the legacy
 * ZRANGEBYSCORE/ZREVRANGE/... forms) and the ZREMRANGEBY* family; the command
 * table of the group. Pops, random members, ZSCAN and the ZUNION/ZINTER/ZDIFF
 * family are in cmd_zset_ops.c.
 *
 * Every handler runs with its keys' partitions held, validates its arguments
 * in Redis 7.0's order, and changes an existing sorted set in place,
 * reporting the change with db_modified. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_util.h"
#include "cmd_zset.h"
#include "command.h"
#include "db.h"
#include "notify.h"
#include "object.h"
#include "resp.h"
#include "t_common.h"
#include "t_zset.h"

#define ERR_SCORE_RANGE "ERR min or max is not a float"
#define ERR_LEX_RANGE "ERR min or max not valid string range item"

static zset_t *Z(const obj_t *o)
{
    return o->v.ptr;
}

/* ---- ZADD ZINCRBY ZREM ----------------------------------------------------- */

enum {
    ZADD_NX = 1 << 0,
    ZADD_XX = 1 << 1,
    ZADD_GT = 1 << 2,
    ZADD_LT = 1 << 3,
    ZADD_CH = 1 << 4,
    ZADD_INCR = 1 << 5,
};

/* Shared by ZADD (with_opts: options before the pairs) and ZINCRBY (flags
 * ZADD_INCR, one pair). */
static void zadd_generic(cmd_ctx_t *c, int flags, int with_opts)
{
    static const struct {
        const char *name;
        int flag;
    } opts[] = {{"nx", ZADD_NX}, {"xx", ZADD_XX}, {"gt", ZADD_GT},
                {"lt", ZADD_LT}, {"ch", ZADD_CH}, {"incr", ZADD_INCR}};
    sv_t key = c->argv[1];
    int idx = 2;
    long long added = 0, updated = 0, processed = 0;
    double newscore = 0;
    obj_t *o, fresh;

    if (with_opts) {
        for (; idx < c->argc; idx++) {
            size_t k;
            for (k = 0; k < sizeof opts / sizeof *opts; k++)
                if (arg_is(c, idx, opts[k].name))
                    break;
            if (k == sizeof opts / sizeof *opts)
                break;
            flags |= opts[k].flag;
        }
    }
    int elements = c->argc - idx;
    if (elements == 0 || elements % 2) {
        reply_error(c->r, ERR_SYNTAX);
        return;
    }
    elements /= 2;
    if ((flags & ZADD_NX) && (flags & ZADD_XX)) {
        reply_error(c->r, "ERR XX and NX options at the same time are not compatible");
        return;
    }
    if (((flags & ZADD_GT) && (flags & (ZADD_NX | ZADD_LT))) ||
        ((flags & ZADD_LT) && (flags & ZADD_NX))) {
        reply_error(c->r, "ERR GT, LT, and/or NX options at the same time are not compatible");
        return;
    }
    if ((flags & ZADD_INCR) && elements > 1) {
        reply_error(c->r, "ERR INCR option supports a single increment-element pair");
        return;
    }
    double *scores = xmalloc((size_t)elements * sizeof *scores);
    for (int j = 0; j < elements; j++) {
        sv_t s = c->argv[idx + 2 * j];
        if (str_to_double(s.p, s.len, &scores[j]) != 0) {
            reply_error(c->r, ERR_NOT_FLOAT);
            free(scores);
            return;
        }
    }

    if (t_lookup(c, key, OBJ_ZSET, LOOKUP_WRITE, &o) != 0) {
        free(scores);
        return;
    }
    size_t before = 0;
    zset_t *z;
    if (!o) {
        if (flags & ZADD_XX)
            goto reply;
        fresh = obj_make(OBJ_ZSET, zset_new());
        z = fresh.v.ptr;
        /* Redis 7.0 picks the encoding of a new key from its first member. */
        z->big = c->argv[idx + 1].len > ZSET_SMALL_VALUE;
    } else {
        z = Z(o);
        before = obj_mem(o);
    }
    for (int j = 0; j < elements; j++) {
        sv_t m = c->argv[idx + 2 * j + 1];
        double score = scores[j];
        znode_t *x = zset_find(z, m.p, m.len);
        if (!x) {
            if (flags & ZADD_XX)
                continue;
            zset_insert(z, m.p, m.len, score);
            added++;
        } else {
            if (flags & ZADD_NX)
                continue;
            double cur = x->score;
            if (flags & ZADD_INCR) {
                score += cur;
                if (isnan(score)) {
                    /* Only one element with INCR: nothing was changed. */
                    reply_error(c->r, "ERR resulting score is not a number (NaN)");
                    free(scores);
                    return;
                }
            }
            if (((flags & ZADD_LT) && score >= cur) || ((flags & ZADD_GT) && score <= cur))
                continue;
            if (score != cur) {
                zset_update(z, x, score);
                updated++;
            }
        }
        newscore = score;
        processed++;
    }
    if (!o)
        db_add(c, key, &fresh);
    else if (added || updated)
        db_modified(c, key, o, before);
    if (added || updated)
        notify_key(c, NOTIFY_ZSET, (flags & ZADD_INCR) ? "zincr" : "zadd", key);
    c->dirty += (uint64_t)(added + updated);
reply:
    free(scores);
    if (flags & ZADD_INCR) {
        if (processed)
            reply_double(c->r, newscore);
        else
            reply_null(c->r);
    } else {
        reply_int(c->r, (flags & ZADD_CH) ? added + updated : added);
    }
}

/* ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]
 * Also GEOADD's engine (cmd_geo.c), called with its arguments rewritten. */
void zadd_command(cmd_ctx_t *c)
{
    zadd_generic(c, 0, 1);
}

/* ZINCRBY key increment member */
static void zincrby_command(cmd_ctx_t *c)
{
    zadd_generic(c, ZADD_INCR, 0);
}

static int del_member(void **slot, sv_t m)
{
    void *z = *slot;
    znode_t *x = zset_find(z, m.p, m.len);

    if (x)
        zset_delete(z, x);
    return x != NULL;
}

/* ZREM key member [member ...] */
static void zrem_command(cmd_ctx_t *c)
{
    member_del_generic(c, OBJ_ZSET, del_member);
}

/* ---- ZSCORE ZMSCORE ZCARD ZRANK ZREVRANK ZCOUNT ZLEXCOUNT -------------------- */

/* Shared by ZSCORE and ZMSCORE: the score of member m in o (NULL: no such
 * key), or a null. */
static void reply_member_score(cmd_ctx_t *c, const obj_t *o, sv_t m)
{
    znode_t *x = o ? zset_find(Z(o), m.p, m.len) : NULL;

    if (x)
        reply_double(c->r, x->score);
    else
        reply_null(c->r);
}

/* ZSCORE key member */
static void zscore_command(cmd_ctx_t *c)
{
    member_reply_generic(c, OBJ_ZSET, reply_member_score, 0);
}

/* ZMSCORE key member [member ...] */
static void zmscore_command(cmd_ctx_t *c)
{
    member_reply_generic(c, OBJ_ZSET, reply_member_score, 1);
}

/* ZCARD key */
static void zcard_command(cmd_ctx_t *c)
{
    obj_t *o;

    if (t_lookup(c, c->argv[1], OBJ_ZSET, 0, &o) != 0)
        return;
    reply_int(c->r, o ? (long long)zset_len(Z(o)) : 0);
}

/* Shared by ZRANK and ZREVRANK. */
static void zrank_generic(cmd_ctx_t *c, int rev)
{
    obj_t *o;
    znode_t *x;

    if (t_lookup(c, c->argv[1], OBJ_ZSET, 0, &o) != 0)
        return;
    if (!o || !(x = zset_find(Z(o), c->argv[2].p, c->argv[2].len))) {
        reply_null(c->r);
        return;
    }
    size_t rank = zset_rank(Z(o), x);
    reply_int(c->r, (long long)(rev ? zset_len(Z(o)) - 1 - rank : rank));
}

/* ZRANK key member */
static void zrank_command(cmd_ctx_t *c)
{
    zrank_generic(c, 0);
}

/* ZREVRANK key member */
static void zrevrank_command(cmd_ctx_t *c)
{
    zrank_generic(c, 1);
}

enum { ZR_RANK, ZR_SCORE, ZR_LEX, ZR_AUTO };

/* A parsed range of one of the three kinds. */
typedef struct zrange_any {
    int type;
    long long start, end; /* ZR_RANK */
    zrange_spec_t score;
    zlex_spec_t lex;
} zrange_any_t;

static int parse_range(cmd_ctx_t *c, int type, int min_i, int max_i, zrange_any_t *r)
{
    r->type = type;
    switch (type) {
    case ZR_RANK:
        return arg_ll(c, min_i, &r->start, NULL) != 0 || arg_ll(c, max_i, &r->end, NULL) != 0
                   ? -1
                   : 0;
    case ZR_SCORE:
        if (zrange_parse(c->argv[min_i], c->argv[max_i], &r->score) == 0)
            return 0;
        reply_error(c->r, ERR_SCORE_RANGE);
        return -1;
    default:
        if (zlex_parse(c->argv[min_i], c->argv[max_i], &r->lex) == 0)
            return 0;
        reply_error(c->r, ERR_LEX_RANGE);
        return -1;
    }
}

/* The first and last node of a score or lex range (NULL when empty). */
static void range_ends(const zset_t *z, const zrange_any_t *r, znode_t **first, znode_t **last)
{
    if (r->type == ZR_SCORE) {
        *first = zset_first_in_score(z, &r->score);
        *last = *first ? zset_last_in_score(z, &r->score) : NULL;
    } else {
        *first = zset_first_in_lex(z, &r->lex);
        *last = *first ? zset_last_in_lex(z, &r->lex) : NULL;
        /* Members of different scores are not in lex order (Redis leaves the
         * result undefined): ends that cross make an empty range, never a
         * walk past the end of the list. */
        if (*first && (!*last || zset_rank(z, *last) < zset_rank(z, *first)))
            *first = *last = NULL;
    }
}

/* Shared by ZCOUNT and ZLEXCOUNT: the distance between the ranks of the
 * range's ends, O(log n). */
static void zcount_generic(cmd_ctx_t *c, int type)
{
    zrange_any_t r;
    znode_t *first, *last;
    obj_t *o;

    if (parse_range(c, type, 2, 3, &r) != 0)
        return;
    if (t_lookup_or_reply(c, c->argv[1], OBJ_ZSET, 0, MISS_ZERO, &o) != 0)
        return;
    range_ends(Z(o), &r, &first, &last);
    if (!first) {
        reply_int(c->r, 0);
        return;
    }
    reply_int(c->r, (long long)(zset_rank(Z(o), last) - zset_rank(Z(o), first) + 1));
}

/* ZCOUNT key min max */
static void zcount_command(cmd_ctx_t *c)
{
    zcount_generic(c, ZR_SCORE);
}

/* ZLEXCOUNT key min max */
static void zlexcount_command(cmd_ctx_t *c)
{
    zcount_generic(c, ZR_LEX);
}

/* ---- ZRANGE family ------------------------------------------------------------ */

/* Where a range goes: the reply (deferred header) or a new sorted set. */
typedef struct zsink {
    cmd_ctx_t *c;
    int withscores;
    zset_t *store;
    long n;
    size_t mark;
} zsink_t;

static void sink_emit(zsink_t *s, const znode_t *x)
{
    sv_t m = zn_member(x);
    if (s->store)
        zset_insert(s->store, m.p, m.len, x->score);
    else
        zreply_elem(s->c, m, x->score, s->withscores);
    s->n++;
}

/* Rank range: inclusive start/end, negative from the end, as Redis clamps. */
static void emit_rank_range(zsink_t *s, const zset_t *z, long long start, long long end, int rev)
{
    size_t len = zset_len(z), first = 0;
    size_t n = clamp_range(start, end, len, &first);

    if (n == 0)
        return;
    znode_t *x = zset_at(z, rev ? len - 1 - first : first);
    while (n-- && x) {
        sink_emit(s, x);
        x = rev ? x->back : zn_next(x);
    }
}

/* Score or lex range, from the low end (or the high end when rev), after
 * skipping offset nodes, at most limit nodes (limit < 0: all). */
static void emit_value_range(zsink_t *s, const zset_t *z, const zrange_any_t *r, int rev,
                             long long offset, long long limit)
{
    znode_t *first, *last;

    /* A negative offset skips past every node in Redis: nothing. */
    if (offset < 0 || (offset > 0 && (unsigned long long)offset >= zset_len(z)))
        return;
    range_ends(z, r, &first, &last);
    if (!first)
        return;
    znode_t *x = rev ? last : first, *stop = rev ? first : last;
    while (x && offset--) {
        if (x == stop)
            return;
        x = rev ? x->back : zn_next(x);
    }
    while (x && limit--) {
        sink_emit(s, x);
        if (x == stop)
            break;
        x = rev ? x->back : zn_next(x);
    }
}

/* The engine of ZRANGE, ZRANGESTORE, ZRANGEBYSCORE, ZREVRANGEBYSCORE,
 * ZREVRANGE, ZRANGEBYLEX and ZREVRANGEBYLEX: the source key is
 * argv[key_i], then min and max; type and direction are fixed by the legacy
 * forms and chosen by options (ZR_AUTO, rev < 0) for ZRANGE. dst: ZRANGESTORE. */
static void zrange_generic(cmd_ctx_t *c, int key_i, int type, int rev, const sv_t *dst)
{
    int withscores = 0, min_i = key_i + 1, max_i = key_i + 2;
    long long offset = 0, limit = -1;
    int has_limit = 0;
    zrange_any_t r;
    obj_t *o;

    for (int j = key_i + 3; j < c->argc; j++) {
        int left = c->argc - j - 1;
        if (!dst && arg_is(c, j, "withscores")) {
            withscores = 1;
        } else if (arg_is(c, j, "limit") && left >= 2) {
            if (arg_ll(c, j + 1, &offset, NULL) != 0 || arg_ll(c, j + 2, &limit, NULL) != 0)
                return;
            has_limit = 1;
            j += 2;
        } else if (rev < 0 && arg_is(c, j, "rev")) {
            rev = 1;
        } else if (type == ZR_AUTO && arg_is(c, j, "bylex")) {
            type = ZR_LEX;
        } else if (type == ZR_AUTO && arg_is(c, j, "byscore")) {
            type = ZR_SCORE;
        } else {
            reply_error(c->r, ERR_SYNTAX);
            return;
        }
    }
    if (rev < 0)
        rev = 0;
    if (type == ZR_AUTO)
        type = ZR_RANK;
    if (has_limit && type == ZR_RANK) {
        reply_error(c->r, "ERR syntax error, LIMIT is only supported in combination with "
                          "either BYSCORE or BYLEX");
        return;
    }
    if (withscores && type == ZR_LEX) {
        reply_error(c->r, "ERR syntax error, WITHSCORES not supported in combination with BYLEX");
        return;
    }
    if (rev && type != ZR_RANK) { /* reverse value ranges are given as max min */
        min_i = key_i + 2;
        max_i = key_i + 1;
    }
    if (parse_range(c, type, min_i, max_i, &r) != 0)
        return;
    /* a read even for ZRANGESTORE: a missing source counts as a miss (and
     * raises keymiss), as Redis 7.0 */
    if (t_lookup(c, c->argv[key_i], OBJ_ZSET, 0, &o) != 0)
        return;

    zsink_t s = {c, withscores, NULL, 0, 0};
    if (dst)
        s.store = zset_new();
    else
        s.mark = reply_defer(c->r);
    if (o) {
        if (type == ZR_RANK)
            emit_rank_range(&s, Z(o), r.start, r.end, rev);
        else
            emit_value_range(&s, Z(o), &r, rev, offset, limit);
    }
    if (!dst) {
        reply_defer_set(c->r, s.mark, '*', withscores && c->r->proto < 3 ? s.n * 2 : s.n);
        return;
    }
    if (s.n) {
        obj_t nv = obj_make(OBJ_ZSET, s.store);
        db_set_obj(c, *dst, &nv, 0);
        notify_key(c, NOTIFY_ZSET, "zrangestore", *dst);
        c->dirty++;
    } else {
        zset_free(s.store);
        c->dirty += (uint64_t)db_delete_notify(c, *dst);
    }
    reply_int(c->r, s.n);
}

/* ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES] */
static void zrange_command(cmd_ctx_t *c)
{
    zrange_generic(c, 1, ZR_AUTO, -1, NULL);
}

/* ZRANGESTORE dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count] */
static void zrangestore_command(cmd_ctx_t *c)
{
    zrange_generic(c, 2, ZR_AUTO, -1, &c->argv[1]);
}

/* ZREVRANGE key start stop [WITHSCORES] */
static void zrevrange_command(cmd_ctx_t *c)
{
    zrange_generic(c, 1, ZR_RANK, 1, NULL);
}

/* ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count] */
static void zrangebyscore_command(cmd_ctx_t *c)
{
    zrange_generic(c, 1, ZR_SCORE, 0, NULL);
}

/* ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count] */
static void zrevrangebyscore_command(cmd_ctx_t *c)
{
    zrange_generic(c, 1, ZR_SCORE, 1, NULL);
}

/* ZRANGEBYLEX key min max [LIMIT offset count] */
static void zrangebylex_command(cmd_ctx_t *c)
{
    zrange_generic(c, 1, ZR_LEX, 0, NULL);
}

/* ZREVRANGEBYLEX key max min [LIMIT offset count] */
static void zrevrangebylex_command(cmd_ctx_t *c)
{
    zrange_generic(c, 1, ZR_LEX, 1, NULL);
}

/* ---- ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX ------------------------- */

/* Shared by the three ZREMRANGEBY* commands. */
static void zremrange_generic(cmd_ctx_t *c, int type)
{
    zrange_any_t r;
    znode_t *x = NULL, *last = NULL;
    long long removed = 0;
    obj_t *o;

    if (parse_range(c, type, 2, 3, &r) != 0)
        return;
    if (t_lookup_or_reply(c, c->argv[1], OBJ_ZSET, LOOKUP_WRITE, MISS_ZERO, &o) != 0)
        return;
    zset_t *z = Z(o);
    if (type == ZR_RANK) {
        size_t first = 0, n = clamp_range(r.start, r.end, zset_len(z), &first);
        if (n) {
            x = zset_at(z, first);
            last = zset_at(z, first + n - 1);
        }
    } else {
        range_ends(z, &r, &x, &last);
    }
    size_t before = obj_mem(o);
    while (x) {
        znode_t *next = x == last ? NULL : zn_next(x);
        zset_delete(z, x);
        removed++;
        x = next;
    }
    if (removed) {
        static const char *const events[] = {[ZR_RANK] = "zremrangebyrank",
                                             [ZR_SCORE] = "zremrangebyscore",
                                             [ZR_LEX] = "zremrangebylex"};
        notify_key_gone(c, NOTIFY_ZSET, events[type], c->argv[1],
                        db_modified(c, c->argv[1], o, before));
        c->dirty += (uint64_t)removed;
    }
    reply_int(c->r, removed);
}

/* ZREMRANGEBYRANK key start stop */
static void zremrangebyrank_command(cmd_ctx_t *c)
{
    zremrange_generic(c, ZR_RANK);
}

/* ZREMRANGEBYSCORE key min max */
static void zremrangebyscore_command(cmd_ctx_t *c)
{
    zremrange_generic(c, ZR_SCORE);
}

/* ZREMRANGEBYLEX key min max */
static void zremrangebylex_command(cmd_ctx_t *c)
{
    zremrange_generic(c, ZR_LEX);
}

/* ---- the table ------------------------------------------------------------------ */

const command_t cmds_zset[] = {
    CMD_ROW("zadd", zadd_command, -4, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
        "@write @sortedset @fast", "sorted-set", "1.2.0",
        "Add one or more members to a sorted set, or update its score if it already exists",
        .key_specs = "RW UPDATE index:1 range:0,1,0"),
    CMD_ROW("zincrby", zincrby_command, 4, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
        "@write @sortedset @fast", "sorted-set", "1.2.0",
        "Increment the score of a member in a sorted set",
        .key_specs = "RW ACCESS UPDATE index:1 range:0,1,0"),
    CMD_ROW("zrem", zrem_command, -3, CMD_WRITE | CMD_FAST, 1, 1, 1, "@write @sortedset @fast",
        "sorted-set", "1.2.0", "Remove one or more members from a sorted set",
        .key_specs = "RW DELETE index:1 range:0,1,0"),
    CMD_ROW("zscore", zscore_command, 3, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @sortedset @fast",
        "sorted-set", "1.2.0", "Get the score associated with the given member in a sorted set",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("zmscore", zmscore_command, -3, CMD_READONLY | CMD_FAST, 1, 1, 1,
        "@read @sortedset @fast", "sorted-set", "6.2.0",
        "Get the score associated with the given members in a sorted set",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("zcard", zcard_command, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @sortedset @fast",
        "sorted-set", "1.2.0", "Get the number of members in a sorted set",
        .key_specs = "RO index:1 range:0,1,0"),
    CMD_ROW("zcount", zcount_command, 4, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @sortedset @fast",
        "sorted-set", "2.0.0",
        "Count the members in a sorted set with scores within the given values",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("zrank", zrank_command, 3, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @sortedset @fast",
        "sorted-set", "2.0.0", "Determine the index of a member in a sorted set",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("zrevrank", zrevrank_command, 3, CMD_READONLY | CMD_FAST, 1, 1, 1,
        "@read @sortedset @fast", "sorted-set", "2.0.0",
        "Determine the index of a member in a sorted set, with scores ordered from high to low",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("zrange", zrange_command, -4, CMD_READONLY, 1, 1, 1, "@read @sortedset @slow",
        "sorted-set", "1.2.0", "Return a range of members in a sorted set",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("zrangebyscore", zrangebyscore_command, -4, CMD_READONLY, 1, 1, 1,
        "@read @sortedset @slow", "sorted-set", "1.0.5",
        "Return a range of members in a sorted set, by score",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("zrevrangebyscore", zrevrangebyscore_command, -4, CMD_READONLY, 1, 1, 1,
        "@read @sortedset @slow", "sorted-set", "2.2.0",
        "Return a range of members in a sorted set, by score, with scores ordered from high to "
        "low",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("zrevrange", zrevrange_command, -4, CMD_READONLY, 1, 1, 1, "@read @sortedset @slow",
        "sorted-set", "1.2.0",
        "Return a range of members in a sorted set, by index, with scores ordered from high to "
        "low",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("zrangebylex", zrangebylex_command, -4, CMD_READONLY, 1, 1, 1, "@read @sortedset @slow",
        "sorted-set", "2.8.9",
        "Return a range of members in a sorted set, by lexicographical range",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("zrevrangebylex", zrevrangebylex_command, -4, CMD_READONLY, 1, 1, 1,
        "@read @sortedset @slow", "sorted-set", "2.8.9",
        "Return a range of members in a sorted set, by lexicographical range, ordered from "
        "higher to lower strings.",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("zlexcount", zlexcount_command, 4, CMD_READONLY | CMD_FAST, 1, 1, 1,
        "@read @sortedset @fast", "sorted-set", "2.8.9",
        "Count the number of members in a sorted set between a given lexicographical range",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("zpopmin", zpopmin_command, -2, CMD_WRITE | CMD_FAST, 1, 1, 1,
        "@write @sortedset @fast", "sorted-set", "5.0.0",
        "Remove and return members with the lowest scores in a sorted set",
        .key_specs = "RW ACCESS DELETE index:1 range:0,1,0"),
    CMD_ROW("zpopmax", zpopmax_command, -2, CMD_WRITE | CMD_FAST, 1, 1, 1,
        "@write @sortedset @fast", "sorted-set", "5.0.0",
        "Remove and return members with the highest scores in a sorted set",
        .key_specs = "RW ACCESS DELETE index:1 range:0,1,0"),
    CMD_ROW("zmpop", zmpop_command, -4, CMD_WRITE | CMD_MOVABLEKEYS, 0, 0, 0,
        "@write @sortedset @slow", "sorted-set", "7.0.0",
        "Remove and return members with scores in a sorted set", .keys_fn = mpop_keys,
        .key_specs = "RW ACCESS DELETE index:1 keynum:0,1,1"),
    CMD_ROW("bzpopmin", bzpopmin_command, -3, CMD_WRITE | CMD_NOSCRIPT | CMD_BLOCKING | CMD_FAST,
        1, -2, 1, "@write @sortedset @fast @blocking", "sorted-set", "5.0.0",
        "Remove and return the member with the lowest score from one or more sorted sets, or "
        "block until one is available",
        .key_specs = "RW ACCESS DELETE index:1 range:-2,1,0"),
    CMD_ROW("bzpopmax", bzpopmax_command, -3, CMD_WRITE | CMD_NOSCRIPT | CMD_BLOCKING | CMD_FAST,
        1, -2, 1, "@write @sortedset @fast @blocking", "sorted-set", "5.0.0",
        "Remove and return the member with the highest score from one or more sorted sets, or "
        "block until one is available",
        .key_specs = "RW ACCESS DELETE index:1 range:-2,1,0"),
    CMD_ROW("bzmpop", bzmpop_command, -5, CMD_WRITE | CMD_BLOCKING | CMD_MOVABLEKEYS, 0, 0, 0,
        "@write @sortedset @slow @blocking", "sorted-set", "7.0.0",
        "Remove and return members with scores in a sorted set or block until one is available",
        .keys_fn = bmpop_keys,
        .key_specs = "RW ACCESS DELETE index:2 keynum:0,1,1"),
    CMD_ROW("zrandmember", zrandmember_command, -2, CMD_READONLY, 1, 1, 1, "@read @sortedset @slow",
        "sorted-set", "6.2.0", "Get one or multiple random elements from a sorted set",
        .key_specs = "RO ACCESS index:1 range:0,1,0",
        .tips = "nondeterministic_output"),
    CMD_ROW("zremrangebyrank", zremrangebyrank_command, 4, CMD_WRITE, 1, 1, 1,
        "@write @sortedset @slow", "sorted-set", "2.0.0",
        "Remove all members in a sorted set within the given indexes",
        .key_specs = "RW DELETE index:1 range:0,1,0"),
    CMD_ROW("zremrangebyscore", zremrangebyscore_command, 4, CMD_WRITE, 1, 1, 1,
        "@write @sortedset @slow", "sorted-set", "1.2.0",
        "Remove all members in a sorted set within the given scores",
        .key_specs = "RW DELETE index:1 range:0,1,0"),
    CMD_ROW("zremrangebylex", zremrangebylex_command, 4, CMD_WRITE, 1, 1, 1,
        "@write @sortedset @slow", "sorted-set", "2.8.9",
        "Remove all members in a sorted set between the given lexicographical range",
        .key_specs = "RW DELETE index:1 range:0,1,0"),
    CMD_ROW("zrangestore", zrangestore_command, -5, CMD_WRITE | CMD_DENYOOM, 1, 2, 1,
        "@write @sortedset @slow", "sorted-set", "6.2.0",
        "Store a range of members from sorted set into another key",
        .key_specs = "OW UPDATE index:1 range:0,1,0; RO ACCESS index:2 range:0,1,0"),
    CMD_ROW("zunionstore", zunionstore_command, -4, CMD_WRITE | CMD_DENYOOM | CMD_MOVABLEKEYS,
        1, 1, 1, "@write @sortedset @slow", "sorted-set", "2.0.0",
        "Add multiple sorted sets and store the resulting sorted set in a new key",
        .keys_fn = zstore_keys,
        .key_specs = "OW UPDATE index:1 range:0,1,0; RO ACCESS index:2 keynum:0,1,1"),
    CMD_ROW("zinterstore", zinterstore_command, -4, CMD_WRITE | CMD_DENYOOM | CMD_MOVABLEKEYS,
        1, 1, 1, "@write @sortedset @slow", "sorted-set", "2.0.0",
        "Intersect multiple sorted sets and store the resulting sorted set in a new key",
        .keys_fn = zstore_keys,
        .key_specs = "OW UPDATE index:1 range:0,1,0; RO ACCESS index:2 keynum:0,1,1"),
    CMD_ROW("zdiffstore", zdiffstore_command, -4, CMD_WRITE | CMD_DENYOOM | CMD_MOVABLEKEYS,
        1, 1, 1, "@write @sortedset @slow", "sorted-set", "6.2.0",
        "Subtract multiple sorted sets and store the resulting sorted set in a new key",
        .keys_fn = zstore_keys,
        .key_specs = "OW UPDATE index:1 range:0,1,0; RO ACCESS index:2 keynum:0,1,1"),
    CMD_ROW("zunion", zunion_command, -3, CMD_READONLY | CMD_MOVABLEKEYS, 0, 0, 0,
        "@read @sortedset @slow", "sorted-set", "6.2.0", "Add multiple sorted sets",
        .keys_fn = zsetop_keys,
        .key_specs = "RO ACCESS index:1 keynum:0,1,1"),
    CMD_ROW("zinter", zinter_command, -3, CMD_READONLY | CMD_MOVABLEKEYS, 0, 0, 0,
        "@read @sortedset @slow", "sorted-set", "6.2.0", "Intersect multiple sorted sets",
        .keys_fn = zsetop_keys,
        .key_specs = "RO ACCESS index:1 keynum:0,1,1"),
    CMD_ROW("zdiff", zdiff_command, -3, CMD_READONLY | CMD_MOVABLEKEYS, 0, 0, 0,
        "@read @sortedset @slow", "sorted-set", "6.2.0", "Subtract multiple sorted sets",
        .keys_fn = zsetop_keys,
        .key_specs = "RO ACCESS index:1 keynum:0,1,1"),
    CMD_ROW("zintercard", zintercard_command, -3, CMD_READONLY | CMD_MOVABLEKEYS, 0, 0, 0,
        "@read @sortedset @slow", "sorted-set", "7.0.0",
        "Intersect multiple sorted sets and return the cardinality of the result",
        .keys_fn = zsetop_keys,
        .key_specs = "RO ACCESS index:1 keynum:0,1,1"),
    CMD_ROW("zscan", zscan_command, -3, CMD_READONLY, 1, 1, 1, "@read @sortedset @slow",
        "sorted-set", "2.8.0", "Incrementally iterate sorted sets elements and associated scores",
        .key_specs = "RO ACCESS index:1 range:0,1,0",
        .tips = "nondeterministic_output"),
    {0},
};
