/* cmd_zset_ops — the sorted set commands that take members out or combine
 * sets: ZPOPMIN/ZPOPMAX/ZMPOP, ZRANDMEMBER, ZSCAN, and the ZUNION/ZINTER/ZDIFF
 * family with its STORE forms and ZINTERCARD (one zsetop_generic). Their rows
 * are in cmd_zset.c's table.
 *
 * Every handler runs with its keys' partitions held (the STORE forms hold
 * every partition: see zstore_keys), and validates its arguments in Redis
 * 7.0's order. Plain sets are accepted as inputs of the algebra, every member
 * scoring 1, as Redis does. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blocking.h"
#include "cmd_util.h"
#include "cmd_zset.h"
#include "command.h"
#include "db.h"
#include "notify.h"
#include "object.h"
#include "resp.h"
#include "t_common.h"
#include "t_htab.h"
#include "t_set.h"
#include "t_zset.h"

void zreply_header(cmd_ctx_t *c, long n, int withscores)
{
    reply_array(c->r, withscores && c->r->proto < 3 ? n * 2 : n);
}

void zreply_elem(cmd_ctx_t *c, sv_t m, double score, int withscores)
{
    if (withscores && c->r->proto >= 3)
        reply_array(c->r, 2);
    reply_bulk(c->r, m.p, m.len);
    if (withscores)
        reply_double(c->r, score);
}

static zset_t *Z(const obj_t *o)
{
    return o->v.ptr;
}

/* ---- ZPOPMIN ZPOPMAX ZMPOP ------------------------------------------------------------ */

/* How a pop replies its elements: ZPOPMIN/ZPOPMAX without a count as one
 * flat [member, score], with one as a list of scored elements (flat in
 * RESP2), ZMPOP as a list of [member, score] pairs in both protocols,
 * BZPOPMIN/BZPOPMAX as one flat [key, member, score]. */
enum { ZPOP_ONE, ZPOP_LIST, ZPOP_PAIRS, ZPOP_KEYED };

/* Pop up to count elements of o (key's sorted set) from the low or high end
 * and reply them in style. */
static void zpop_reply(cmd_ctx_t *c, sv_t key, obj_t *o, int max, long long count, int style)
{
    zset_t *z = Z(o);
    size_t before = obj_mem(o);
    size_t n = (unsigned long long)count < zset_len(z) ? (size_t)count : zset_len(z);
    if (style == ZPOP_LIST) {
        zreply_header(c, (long)n, 1);
    } else if (style == ZPOP_KEYED) {
        reply_array(c->r, 3);
        reply_bulk(c->r, key.p, key.len);
    } else {
        reply_array(c->r, style == ZPOP_ONE ? 2 : (long)n);
    }
    for (size_t i = 0; i < n; i++) {
        znode_t *x = max ? z->tail : zset_first(z);
        if (style == ZPOP_PAIRS)
            reply_array(c->r, 2);
        zreply_elem(c, zn_member(x), x->score, style == ZPOP_LIST);
        if (style != ZPOP_LIST)
            reply_double(c->r, x->score);
        zset_delete(z, x);
    }
    c->dirty += n;
    int gone = db_modified(c, key, o, before);
    if (n)
        notify_key_gone(c, NOTIFY_ZSET, max ? "zpopmax" : "zpopmin", key, gone);
}

/* Shared by ZPOPMIN and ZPOPMAX: an empty array when the key is missing. */
static void zpop_generic(cmd_ctx_t *c, int max)
{
    long long count = 1;
    obj_t *o;

    if (pop_count_generic(c, &count) != 0)
        return;
    if (t_lookup(c, c->argv[1], OBJ_ZSET, LOOKUP_WRITE, &o) != 0)
        return;
    if (!o || count == 0) {
        reply_array(c->r, 0);
        return;
    }
    zpop_reply(c, c->argv[1], o, max, count, c->argc == 3 ? ZPOP_LIST : ZPOP_ONE);
}

/* ZMPOP numkeys key [key ...] <MIN | MAX> [COUNT count]: [key, elements]
 * from the first key that holds a sorted set, or a null array. */
static void zmpop_pop(cmd_ctx_t *c, sv_t key, obj_t *o, int max, long long count)
{
    zpop_reply(c, key, o, max, count, ZPOP_PAIRS);
}

void zmpop_command(cmd_ctx_t *c)
{
    mpop_generic(c, OBJ_ZSET, "min", "max", zmpop_pop);
}

/* Shared by BZPOPMIN and BZPOPMAX: key [key ...] timeout; the first key
 * holding a sorted set answers, else the call blocks (blocking.h) or, where
 * it may not, replies a null array. */
static void bzpop_generic(cmd_ctx_t *c, int max)
{
    uint64_t timeout;
    obj_t *o;

    if (blocking_timeout_arg(c, c->argc - 1, &timeout) != 0)
        return;
    for (int j = 1; j < c->argc - 1; j++) {
        if (t_lookup(c, c->argv[j], OBJ_ZSET, LOOKUP_WRITE, &o) != 0)
            return;
        if (o) {
            zpop_reply(c, c->argv[j], o, max, 1, ZPOP_KEYED);
            return;
        }
    }
    if (!blocking_wait(c, 1, c->argc - 2, 0, 0, timeout, OBJ_ZSET))
        reply_null_array(c->r);
}

/* BZPOPMIN key [key ...] timeout */
void bzpopmin_command(cmd_ctx_t *c)
{
    bzpop_generic(c, 0);
}

/* BZPOPMAX key [key ...] timeout */
void bzpopmax_command(cmd_ctx_t *c)
{
    bzpop_generic(c, 1);
}

/* BZMPOP timeout numkeys key [key ...] <MIN | MAX> [COUNT count] */
void bzmpop_command(cmd_ctx_t *c)
{
    bmpop_generic(c, OBJ_ZSET, "min", "max", zmpop_pop);
}

/* ZPOPMIN key [count] */
void zpopmin_command(cmd_ctx_t *c)
{
    zpop_generic(c, 0);
}

/* ZPOPMAX key [count] */
void zpopmax_command(cmd_ctx_t *c)
{
    zpop_generic(c, 1);
}

/* ---- ZRANDMEMBER ZSCAN ------------------------------------------------------------- */

/* ZRANDMEMBER's picks, for randmember_generic. */
static void zrand_one(cmd_ctx_t *c, void *z, int withscores)
{
    znode_t *x = zset_at(z, t_rand() % zset_len(z));
    zreply_elem(c, zn_member(x), x->score, withscores);
}

static void zrand_distinct(cmd_ctx_t *c, void *zv, size_t count, int withscores)
{
    zset_t *z = zv;
    size_t want = count < zset_len(z) ? count : zset_len(z);
    hnode_t **pick = xmalloc(want * sizeof *pick);
    size_t got = htab_random_distinct(&z->tab, pick, want);
    zreply_header(c, (long)got, withscores);
    for (size_t i = 0; i < got; i++) {
        znode_t *x = (znode_t *)pick[i];
        zreply_elem(c, zn_member(x), x->score, withscores);
    }
    free(pick);
}

/* ZRANDMEMBER key [count [WITHSCORES]] */
void zrandmember_command(cmd_ctx_t *c)
{
    randmember_generic(c, OBJ_ZSET, "withscores", zrand_one, zrand_distinct);
}

static void zscan_cb(void *arg, znode_t *x)
{
    scan_acc_t *acc = arg;
    char num[40];

    if (!scan_match(acc->opts, zn_member(x)))
        return;
    scan_push(&acc->items, x->n.key, x->n.klen);
    scan_push(&acc->items, num, (size_t)resp_format_double(num, x->score));
    acc->n += 2;
}

/* ZSCAN's walk, for scan_generic. */
static uint64_t zscan_walk(void *z, uint64_t cursor, long long count, scan_acc_t *acc)
{
    return zset_scan(z, cursor, zscan_cb, acc, count);
}

/* ZSCAN key cursor [MATCH pattern] [COUNT count] */
void zscan_command(cmd_ctx_t *c)
{
    scan_generic(c, OBJ_ZSET, zscan_walk);
}

/* ---- ZUNION ZINTER ZDIFF and their STORE forms, ZINTERCARD -------------------------- */

enum { ZOP_UNION, ZOP_INTER, ZOP_DIFF };
enum { AGG_SUM, AGG_MIN, AGG_MAX };

/* One input: a sorted set, a plain set (scores 1), or missing (empty). */
typedef struct zsrc {
    const zset_t *z;
    const set_t *s;
    double weight;
    int idx; /* position among the keys: ties of the size sort keep it */
} zsrc_t;

static size_t src_len(const zsrc_t *s)
{
    return s->z ? zset_len(s->z) : s->s ? set_len(s->s) : 0;
}

static int src_score(const zsrc_t *s, sv_t m, double *score)
{
    if (s->z) {
        znode_t *x = zset_find(s->z, m.p, m.len);
        if (x)
            *score = x->score;
        return x != NULL;
    }
    *score = 1.0;
    return s->s && set_has(s->s, m.p, m.len);
}

typedef struct src_iter {
    znode_t *x;
    set_iter_t si;
    int started;
} src_iter_t;

static int src_next(const zsrc_t *s, src_iter_t *it, sv_t *m, double *score)
{
    if (s->z) {
        it->x = it->started ? zn_next(it->x) : zset_first(s->z);
        it->started = 1;
        if (!it->x)
            return 0;
        *m = zn_member(it->x);
        *score = it->x->score;
        return 1;
    }
    *score = 1.0;
    return s->s && set_next(s->s, &it->si, m);
}

static int by_size(const void *a, const void *b)
{
    const zsrc_t *x = a, *y = b;
    size_t lx = src_len(x), ly = src_len(y);
    if (lx != ly)
        return lx < ly ? -1 : 1;
    return x->idx - y->idx;
}

/* A weighted score; Redis turns the NaN of 0 * inf into 0. */
static double weighted(double score, double weight)
{
    double v = score * weight;
    return isnan(v) ? 0 : v;
}

static void aggregate(double *target, double v, int agg)
{
    if (agg == AGG_SUM) {
        *target += v;
        if (isnan(*target)) /* inf + -inf */
            *target = 0;
    } else if (agg == AGG_MIN) {
        *target = v < *target ? v : *target;
    } else {
        *target = v > *target ? v : *target;
    }
}

/* The union's accumulator entry: member -> running score. */
typedef struct zacc {
    hnode_t n;
    double score;
    char m[];
} zacc_t;

/* A result set: built big, so scores are kept exactly until it is stored. */
static zset_t *result_new(void)
{
    zset_t *z = zset_new();
    z->big = 1;
    return z;
}

/* htab_drain's fn for do_union: the accumulated member into the result. */
static void acc_to_zset(void *res, hnode_t *e)
{
    zset_insert(res, e->key, e->klen, ((zacc_t *)e)->score);
}

static zset_t *do_union(zsrc_t *src, long long n, int agg)
{
    htab_t acc;
    zset_t *res = result_new();

    memset(&acc, 0, sizeof acc);

    for (long long i = 0; i < n; i++) {
        src_iter_t it = {0};
        sv_t m;
        double score;
        while (src_next(&src[i], &it, &m, &score)) {
            double v = weighted(score, src[i].weight);
            zacc_t *e = (zacc_t *)htab_find(&acc, m.p, m.len);
            if (e) {
                aggregate(&e->score, v, agg);
                continue;
            }
            e = xmalloc(sizeof *e + m.len);
            e->n.key = e->m;
            e->n.klen = m.len;
            if (m.len)
                memcpy(e->m, m.p, m.len);
            e->score = v;
            htab_insert(&acc, &e->n);
        }
    }
    htab_drain(&acc, acc_to_zset, res);
    return res;
}

/* The intersection (or, with card, only its size up to limit: 0 = all). */
static zset_t *do_inter(zsrc_t *src, long long n, int agg, long long *card, long long limit)
{
    zset_t *res = card ? NULL : result_new();
    src_iter_t it = {0};
    sv_t m;
    double score;

    if (src_len(&src[0]) == 0) /* sorted by size: some input is empty */
        return res;
    while (src_next(&src[0], &it, &m, &score)) {
        double total = weighted(score, src[0].weight), other;
        long long k;
        for (k = 1; k < n; k++) {
            if (!src_score(&src[k], m, &other))
                break;
            aggregate(&total, weighted(other, src[k].weight), agg);
        }
        if (k < n)
            continue;
        if (card) {
            if (++*card == limit)
                break;
        } else {
            zset_insert(res, m.p, m.len, total);
        }
    }
    return res;
}

static zset_t *do_diff(zsrc_t *src, long long n)
{
    zset_t *res = result_new();
    src_iter_t it = {0};
    sv_t m;
    double score, other;

    while (src_next(&src[0], &it, &m, &score)) {
        long long k;
        for (k = 1; k < n; k++)
            if (src_score(&src[k], m, &other))
                break;
        if (k == n)
            zset_insert(res, m.p, m.len, score);
    }
    return res;
}

/* numkeys at argv[idx] is valid when >= 1 and within the arguments. */
static int numkeys_ok(int argc, const sv_t *argv, int idx, long long *numkeys)
{
    return str_to_ll(argv[idx].p, argv[idx].len, numkeys) == 0 && *numkeys >= 1 &&
           *numkeys <= argc - idx - 1;
}

/* ZUNIONSTORE/ZINTERSTORE/ZDIFFSTORE: the destination (the row's lead key,
 * argv[1]), numkeys, then the sources. An invalid numkeys holds no partition
 * (the handler replies the error). */
int zstore_keys(int argc, const sv_t *argv, int *first, int *last, int *step)
{
    long long numkeys;
    if (!numkeys_ok(argc, argv, 2, &numkeys))
        return -1;
    *first = 3;
    *last = 2 + (int)numkeys;
    *step = 1;
    return 0;
}

/* ZUNION/ZINTER/ZDIFF/ZINTERCARD: numkeys, then the keys. */
int zsetop_keys(int argc, const sv_t *argv, int *first, int *last, int *step)
{
    long long numkeys;

    if (!numkeys_ok(argc, argv, 1, &numkeys))
        return -1;
    *first = 2;
    *last = 1 + (int)numkeys;
    *step = 1;
    return 0;
}

/* The engine of the family: op, a destination (the STORE forms), or only the
 * cardinality (ZINTERCARD). Redis 7.0's order: numkeys, then every source
 * looked up and type-checked, then the options. */
static void zsetop_generic(cmd_ctx_t *c, int op, int store, int card_only)
{
    int nk_i = store ? 2 : 1, agg = AGG_SUM, withscores = 0;
    long long numkeys, limit = 0, card = 0;

    if (arg_ll(c, nk_i, &numkeys, NULL) != 0)
        return;
    if (numkeys < 1) {
        reply_errorf(c->r, "ERR at least 1 input key is needed for '%s' command", c->cmd->name);
        return;
    }
    if (numkeys > c->argc - nk_i - 1) {
        reply_error(c->r, ERR_SYNTAX);
        return;
    }
    zsrc_t *src = xcalloc((size_t)numkeys, sizeof *src);
    for (long long i = 0; i < numkeys; i++) {
        /* read lookups for the STORE forms too: Redis 7.0 counts their misses
         * (and raises keymiss) */
        obj_t *o = db_lookup(c, c->argv[nk_i + 1 + i], 0);
        src[i].weight = 1.0;
        src[i].idx = (int)i;
        if (!o)
            continue;
        if (o->type == OBJ_ZSET) {
            src[i].z = o->v.ptr;
        } else if (o->type == OBJ_SET) {
            src[i].s = o->v.ptr;
        } else {
            reply_error(c->r, ERR_WRONGTYPE);
            goto out;
        }
    }
    for (int j = nk_i + 1 + (int)numkeys; j < c->argc;) {
        int left = c->argc - j;
        if (op != ZOP_DIFF && !card_only && left >= numkeys + 1 && arg_is(c, j, "weights")) {
            j++;
            for (long long i = 0; i < numkeys; i++, j++) {
                if (str_to_double(c->argv[j].p, c->argv[j].len, &src[i].weight) != 0) {
                    reply_error(c->r, "ERR weight value is not a float");
                    goto out;
                }
            }
        } else if (op != ZOP_DIFF && !card_only && left >= 2 && arg_is(c, j, "aggregate")) {
            if (arg_is(c, j + 1, "sum"))
                agg = AGG_SUM;
            else if (arg_is(c, j + 1, "min"))
                agg = AGG_MIN;
            else if (arg_is(c, j + 1, "max"))
                agg = AGG_MAX;
            else {
                reply_error(c->r, ERR_SYNTAX);
                goto out;
            }
            j += 2;
        } else if (!store && !card_only && arg_is(c, j, "withscores")) {
            withscores = 1;
            j++;
        } else if (card_only && left >= 2 && arg_is(c, j, "limit")) {
            if (arg_ll(c, j + 1, &limit, "ERR LIMIT can't be negative") != 0)
                goto out;
            if (limit < 0) {
                reply_error(c->r, "ERR LIMIT can't be negative");
                goto out;
            }
            j += 2;
        } else {
            reply_error(c->r, ERR_SYNTAX);
            goto out;
        }
    }

    /* Smallest first: the intersection walks the smallest input; the
     * difference keeps its first input first. */
    if (op != ZOP_DIFF)
        qsort(src, (size_t)numkeys, sizeof *src, by_size);
    zset_t *res = op == ZOP_UNION   ? do_union(src, numkeys, agg)
                  : op == ZOP_DIFF ? do_diff(src, numkeys)
                                   : do_inter(src, numkeys, agg, card_only ? &card : NULL, limit);
    if (card_only) {
        reply_int(c->r, card);
    } else if (store) {
        long long n = (long long)zset_len(res);
        if (n) {
            zset_settle(res);
            obj_t nv = obj_make(OBJ_ZSET, res);
            db_set_obj(c, c->argv[1], &nv, 0);
            static const char *const events[] = {[ZOP_UNION] = "zunionstore",
                                                 [ZOP_INTER] = "zinterstore",
                                                 [ZOP_DIFF] = "zdiffstore"};
            notify_key(c, NOTIFY_ZSET, events[op], c->argv[1]);
            c->dirty++;
        } else {
            zset_free(res);
            c->dirty += (uint64_t)db_delete_notify(c, c->argv[1]);
        }
        reply_int(c->r, n);
    } else {
        zreply_header(c, (long)zset_len(res), withscores);
        for (znode_t *x = zset_first(res); x; x = zn_next(x))
            zreply_elem(c, zn_member(x), x->score, withscores);
        zset_free(res);
    }
out:
    free(src);
}

/* ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]]
 *   [AGGREGATE <SUM | MIN | MAX>] */
void zunionstore_command(cmd_ctx_t *c)
{
    zsetop_generic(c, ZOP_UNION, 1, 0);
}

/* ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]]
 *   [AGGREGATE <SUM | MIN | MAX>] */
void zinterstore_command(cmd_ctx_t *c)
{
    zsetop_generic(c, ZOP_INTER, 1, 0);
}

/* ZDIFFSTORE destination numkeys key [key ...] */
void zdiffstore_command(cmd_ctx_t *c)
{
    zsetop_generic(c, ZOP_DIFF, 1, 0);
}

/* ZUNION numkeys key [key ...] [WEIGHTS weight [weight ...]]
 *   [AGGREGATE <SUM | MIN | MAX>] [WITHSCORES] */
void zunion_command(cmd_ctx_t *c)
{
    zsetop_generic(c, ZOP_UNION, 0, 0);
}

/* ZINTER numkeys key [key ...] [WEIGHTS weight [weight ...]]
 *   [AGGREGATE <SUM | MIN | MAX>] [WITHSCORES] */
void zinter_command(cmd_ctx_t *c)
{
    zsetop_generic(c, ZOP_INTER, 0, 0);
}

/* ZDIFF numkeys key [key ...] [WITHSCORES] */
void zdiff_command(cmd_ctx_t *c)
{
    zsetop_generic(c, ZOP_DIFF, 0, 0);
}

/* ZINTERCARD numkeys key [key ...] [LIMIT limit] */
void zintercard_command(cmd_ctx_t *c)
{
    zsetop_generic(c, ZOP_INTER, 0, 1);
}
