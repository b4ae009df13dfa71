/* cmd_set — the set commands.
 *
 * Every handler runs with its keys' partitions held (multi-key commands hold
 * all of theirs), validates its arguments in Redis 7.0's order, and changes an
 * existing set in place, reporting the change with db_modified. The algebra
 * (SINTER, SUNION, SDIFF and their STORE forms, SINTERCARD) shares
 * setop_generic. */
#include <stdlib.h>
#include <string.h>

#include "cmd_util.h"
#include "command.h"
#include "db.h"
#include "notify.h"
#include "object.h"
#include "resp.h"
#include "t_common.h"
#include "t_set.h"

#define ERR_NUMKEYS "ERR numkeys should be greater than 0"

static set_t *S(const obj_t *o)
{
    return o->v.ptr;
}

/* SADD key member [member ...] */
static void sadd_command(cmd_ctx_t *c)
{
    sv_t key = c->argv[1];
    long long added = 0;
    obj_t *o;

    if (t_lookup(c, key, OBJ_SET, LOOKUP_WRITE, &o) != 0)
        return;
    if (!o) {
        obj_t nv = obj_make(OBJ_SET, set_new());
        for (int j = 2; j < c->argc; j++)
            added += set_add(nv.v.ptr, c->argv[j].p, c->argv[j].len);
        db_add(c, key, &nv);
    } else {
        size_t before = obj_mem(o);
        for (int j = 2; j < c->argc; j++)
            added += set_add(S(o), c->argv[j].p, c->argv[j].len);
        if (added)
            db_modified(c, key, o, before);
    }
    if (added)
        notify_key(c, NOTIFY_SET, "sadd", key);
    c->dirty += (uint64_t)added;
    reply_int(c->r, added);
}

static int del_member(void **s, sv_t m)
{
    return set_remove(*s, m.p, m.len);
}

/* SREM key member [member ...] */
static void srem_command(cmd_ctx_t *c)
{
    member_del_generic(c, OBJ_SET, del_member);
}

/* Reply every member of s as a RESP3 set (an array in RESP2). */
static void reply_members(cmd_ctx_t *c, const set_t *s)
{
    set_iter_t it = {0};
    sv_t m;

    reply_set(c->r, (long)set_len(s));
    while (set_next(s, &it, &m))
        reply_bulk(c->r, m.p, m.len);
}

/* SMEMBERS key */
static void smembers_command(cmd_ctx_t *c)
{
    obj_t *o;

    if (t_lookup(c, c->argv[1], OBJ_SET, 0, &o) != 0)
        return;
    if (!o)
        reply_set(c->r, 0);
    else
        reply_members(c, S(o));
}

/* Shared by SISMEMBER and SMISMEMBER: 1 when m is in o (NULL: no such key). */
static void reply_is_member(cmd_ctx_t *c, const obj_t *o, sv_t m)
{
    reply_int(c->r, o && set_has(S(o), m.p, m.len));
}

/* SISMEMBER key member */
static void sismember_command(cmd_ctx_t *c)
{
    member_reply_generic(c, OBJ_SET, reply_is_member, 0);
}

/* SMISMEMBER key member [member ...] */
static void smismember_command(cmd_ctx_t *c)
{
    member_reply_generic(c, OBJ_SET, reply_is_member, 1);
}

/* SCARD key */
static void scard_command(cmd_ctx_t *c)
{
    obj_t *o;

    if (t_lookup(c, c->argv[1], OBJ_SET, 0, &o) != 0)
        return;
    reply_int(c->r, o ? (long long)set_len(S(o)) : 0);
}

/* SPOP key [count] */
static void spop_command(cmd_ctx_t *c)
{
    sv_t key = c->argv[1];
    long long count = 0;
    obj_t *o;

    if (pop_count_generic(c, &count) != 0)
        return;
    if (t_lookup(c, key, OBJ_SET, LOOKUP_WRITE, &o) != 0)
        return;
    if (!o) {
        if (c->argc == 3)
            reply_set(c->r, 0);
        else
            reply_null(c->r);
        return;
    }
    set_t *s = S(o);
    size_t before = obj_mem(o);
    if (c->argc == 2) {
        char tmp[24];
        sv_t m = set_random(s, tmp);
        reply_bulk(c->r, m.p, m.len);
        set_remove(s, m.p, m.len);
        c->dirty++;
        notify_key_gone(c, NOTIFY_SET, "spop", key, db_modified(c, key, o, before));
        return;
    }
    if (count == 0) {
        reply_set(c->r, 0);
        return;
    }
    if ((unsigned long long)count >= set_len(s)) {
        /* Everything: reply the members and drop the key. */
        c->dirty += set_len(s);
        reply_members(c, s);
        db_delete(c, key);
        notify_key_gone(c, NOTIFY_SET, "spop", key, 1);
        return;
    }
    buf_t items = {NULL, 0, 0};
    size_t got = set_random_distinct(s, (size_t)count, &items), off = 0;
    sv_t m;
    reply_set(c->r, (long)got);
    while (items_next(&items, &off, &m)) {
        reply_bulk(c->r, m.p, m.len);
        set_remove(s, m.p, m.len);
    }
    buf_free(&items);
    c->dirty += got;
    notify_key_gone(c, NOTIFY_SET, "spop", key, db_modified(c, key, o, before));
}

/* SRANDMEMBER's picks, for randmember_generic (it has no WITH option: with
 * is always 0). */
static void srand_one(cmd_ctx_t *c, void *s, int with)
{
    char tmp[24];
    sv_t m = set_random(s, tmp);
    reply_bulk(c->r, m.p, m.len);
}

static void srand_distinct(cmd_ctx_t *c, void *s, size_t count, int with)
{
    buf_t items = {NULL, 0, 0};
    size_t got = set_random_distinct(s, count, &items), off = 0;
    sv_t m;
    reply_array(c->r, (long)got);
    while (items_next(&items, &off, &m))
        reply_bulk(c->r, m.p, m.len);
    buf_free(&items);
}

/* SRANDMEMBER key [count] */
static void srandmember_command(cmd_ctx_t *c)
{
    randmember_generic(c, OBJ_SET, NULL, srand_one, srand_distinct);
}

/* SMOVE source destination member */
static void smove_command(cmd_ctx_t *c)
{
    sv_t src = c->argv[1], dst = c->argv[2], m = c->argv[3];
    obj_t *so = db_lookup(c, src, LOOKUP_WRITE), *dobj = db_lookup(c, dst, LOOKUP_WRITE);

    if (!so) {
        reply_int(c->r, 0);
        return;
    }
    if (so->type != OBJ_SET || (dobj && dobj->type != OBJ_SET)) {
        reply_error(c->r, ERR_WRONGTYPE);
        return;
    }
    if (so == dobj) {
        reply_int(c->r, set_has(S(so), m.p, m.len));
        return;
    }
    size_t before = obj_mem(so);
    if (!set_remove(S(so), m.p, m.len)) {
        reply_int(c->r, 0);
        return;
    }
    /* src first (it may be deleted when emptied), then dst looked up again:
     * a pointer does not survive another write to its partition. */
    notify_key_gone(c, NOTIFY_SET, "srem", src, db_modified(c, src, so, before));
    dobj = db_lookup(c, dst, LOOKUP_WRITE | LOOKUP_NOTOUCH);
    if (!dobj) {
        obj_t nv = obj_make(OBJ_SET, set_new());
        set_add(nv.v.ptr, m.p, m.len);
        db_add(c, dst, &nv);
        notify_key(c, NOTIFY_SET, "sadd", dst);
    } else {
        before = obj_mem(dobj);
        if (set_add(S(dobj), m.p, m.len)) {
            db_modified(c, dst, dobj, before);
            notify_key(c, NOTIFY_SET, "sadd", dst);
        }
    }
    c->dirty++;
    reply_int(c->r, 1);
}

/* ---- set algebra ------------------------------------------------------------ */

enum { SOP_INTER, SOP_UNION, SOP_DIFF };

static int by_size(const void *a, const void *b)
{
    const set_t *x = *(set_t *const *)a, *y = *(set_t *const *)b;
    return set_len(x) < set_len(y) ? -1 : set_len(x) > set_len(y);
}

/* Whether member m of sets[0] belongs to the intersection (in every other
 * set) or to the difference (in none of the others). */
static int member_passes(set_t **sets, int n, sv_t m, int op)
{
    for (int k = 1; k < n; k++) {
        if (!sets[k])
            continue;
        int in = set_has(sets[k], m.p, m.len);
        if (op == SOP_INTER ? !in : in)
            return 0;
    }
    return 1;
}

/* The engine of SINTER, SUNION, SDIFF, their STORE forms and SINTERCARD: the
 * keys are argv[first .. first+nkeys-1]; dst (when not NULL) receives the
 * result; card_limit >= 0 makes it SINTERCARD (0: no limit). Every key is
 * type-checked before anything is computed, as Redis 7.0. */
static void setop_generic(cmd_ctx_t *c, int op, int first, int nkeys, const sv_t *dst,
                          long long card_limit)
{
    set_t **sets = xcalloc((size_t)nkeys, sizeof *sets);
    int missing = 0;

    for (int j = 0; j < nkeys; j++) {
        obj_t *o;
        /* Redis 7.0 reads the sources of SUNIONSTORE and SDIFFSTORE (a miss
         * counts, and raises keymiss), those of SINTERSTORE as for a write */
        int flags = dst && op == SOP_INTER ? LOOKUP_WRITE : 0;
        if (t_lookup(c, c->argv[first + j], OBJ_SET, flags, &o) != 0) {
            free(sets);
            return;
        }
        sets[j] = o ? S(o) : NULL;
        missing += !o;
    }

    set_t *res = NULL;
    if (op == SOP_INTER) {
        long long card = 0;
        size_t mark = 0;
        if (missing) {
            /* An empty input makes an empty intersection. */
        } else {
            qsort(sets, (size_t)nkeys, sizeof *sets, by_size);
            set_iter_t it = {0};
            sv_t m;
            if (!dst && card_limit < 0)
                mark = reply_defer(c->r);
            else if (dst)
                res = set_new();
            while (set_next(sets[0], &it, &m)) {
                if (!member_passes(sets, nkeys, m, SOP_INTER))
                    continue;
                card++;
                if (res)
                    set_add(res, m.p, m.len);
                else if (card_limit < 0)
                    reply_bulk(c->r, m.p, m.len);
                else if (card_limit && card >= card_limit)
                    break;
            }
        }
        if (card_limit >= 0) {
            reply_int(c->r, card);
        } else if (!dst) {
            if (missing)
                reply_set(c->r, 0);
            else
                reply_defer_set(c->r, mark, '~', card);
        }
    } else {
        res = set_new();
        set_iter_t it;
        sv_t m;
        for (int j = 0; j < (op == SOP_UNION ? nkeys : 1); j++) {
            if (!sets[j])
                continue;
            memset(&it, 0, sizeof it);
            while (set_next(sets[j], &it, &m))
                if (op == SOP_UNION || member_passes(sets, nkeys, m, SOP_DIFF))
                    set_add(res, m.p, m.len);
        }
        if (!dst)
            reply_members(c, res);
    }
    free(sets);

    if (dst) {
        long long n = res ? (long long)set_len(res) : 0;
        static const char *const events[] = {"sinterstore", "sunionstore", "sdiffstore"};
        if (n) {
            obj_t nv = obj_make(OBJ_SET, res);
            db_set_obj(c, *dst, &nv, 0);
            notify_key(c, NOTIFY_SET, events[op], *dst);
            c->dirty++;
        } else {
            set_free(res);
            c->dirty += (uint64_t)db_delete_notify(c, *dst);
        }
        reply_int(c->r, n);
    } else {
        set_free(res);
    }
}

/* SINTER key [key ...] */
static void sinter_command(cmd_ctx_t *c)
{
    setop_generic(c, SOP_INTER, 1, c->argc - 1, NULL, -1);
}

/* SUNION key [key ...] */
static void sunion_command(cmd_ctx_t *c)
{
    setop_generic(c, SOP_UNION, 1, c->argc - 1, NULL, -1);
}

/* SDIFF key [key ...] */
static void sdiff_command(cmd_ctx_t *c)
{
    setop_generic(c, SOP_DIFF, 1, c->argc - 1, NULL, -1);
}

/* SINTERSTORE destination key [key ...] */
static void sinterstore_command(cmd_ctx_t *c)
{
    setop_generic(c, SOP_INTER, 2, c->argc - 2, &c->argv[1], -1);
}

/* SUNIONSTORE destination key [key ...] */
static void sunionstore_command(cmd_ctx_t *c)
{
    setop_generic(c, SOP_UNION, 2, c->argc - 2, &c->argv[1], -1);
}

/* SDIFFSTORE destination key [key ...] */
static void sdiffstore_command(cmd_ctx_t *c)
{
    setop_generic(c, SOP_DIFF, 2, c->argc - 2, &c->argv[1], -1);
}

/* SINTERCARD's numkeys is valid when >= 1 and within the arguments; the same
 * test decides keys_fn's -1, so these errors are replied before any key is
 * touched. */
static int sintercard_keys(int argc, const sv_t *argv, int *first, int *last, int *step)
{
    long long numkeys;

    if (str_to_ll(argv[1].p, argv[1].len, &numkeys) != 0 || numkeys < 1 || numkeys > argc - 2)
        return -1;
    *first = 2;
    *last = 1 + (int)numkeys;
    *step = 1;
    return 0;
}

/* SINTERCARD numkeys key [key ...] [LIMIT limit] */
static void sintercard_command(cmd_ctx_t *c)
{
    long long numkeys, limit = 0;

    if (str_to_ll(c->argv[1].p, c->argv[1].len, &numkeys) != 0 || numkeys < 1) {
        reply_error(c->r, ERR_NUMKEYS);
        return;
    }
    if (numkeys > c->argc - 2) {
        reply_error(c->r, "ERR Number of keys can't be greater than number of args");
        return;
    }
    for (int j = 2 + (int)numkeys; j < c->argc; j++) {
        if (arg_is(c, j, "limit") && j + 1 < c->argc) {
            j++;
            if (arg_ll(c, j, &limit, "ERR LIMIT can't be negative") != 0)
                return;
            if (limit < 0) {
                reply_error(c->r, "ERR LIMIT can't be negative");
                return;
            }
        } else {
            reply_error(c->r, ERR_SYNTAX);
            return;
        }
    }
    setop_generic(c, SOP_INTER, 2, (int)numkeys, NULL, limit);
}

static void sscan_cb(void *arg, sv_t m)
{
    scan_acc_t *acc = arg;
    if (!scan_match(acc->opts, m))
        return;
    scan_push(&acc->items, m.p, m.len);
    acc->n++;
}

/* SSCAN's walk, for scan_generic. */
static uint64_t sscan_walk(void *s, uint64_t cursor, long long count, scan_acc_t *acc)
{
    return set_scan(s, cursor, sscan_cb, acc, count);
}

/* SSCAN key cursor [MATCH pattern] [COUNT count] */
static void sscan_command(cmd_ctx_t *c)
{
    scan_generic(c, OBJ_SET, sscan_walk);
}

const command_t cmds_set[] = {
    CMD_ROW("sadd", sadd_command, -3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
        "@write @set @fast", "set", "1.0.0", "Add one or more members to a set",
        .key_specs = "RW INSERT index:1 range:0,1,0"),
    CMD_ROW("srem", srem_command, -3, CMD_WRITE | CMD_FAST, 1, 1, 1, "@write @set @fast", "set",
        "1.0.0", "Remove one or more members from a set",
        .key_specs = "RW DELETE index:1 range:0,1,0"),
    CMD_ROW("smembers", smembers_command, 2, CMD_READONLY, 1, 1, 1, "@read @set @slow", "set",
        "1.0.0", "Get all the members in a set",
        .key_specs = "RO ACCESS index:1 range:0,1,0",
        .tips = "nondeterministic_output_order"),
    CMD_ROW("sismember", sismember_command, 3, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @set @fast",
        "set", "1.0.0", "Determine if a given value is a member of a set",
        .key_specs = "RO index:1 range:0,1,0"),
    CMD_ROW("smismember", smismember_command, -3, CMD_READONLY | CMD_FAST, 1, 1, 1,
        "@read @set @fast", "set", "6.2.0",
        "Returns the membership associated with the given elements for a set",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("scard", scard_command, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @set @fast", "set",
        "1.0.0", "Get the number of members in a set",
        .key_specs = "RO index:1 range:0,1,0"),
    CMD_ROW("spop", spop_command, -2, CMD_WRITE | CMD_FAST, 1, 1, 1, "@write @set @fast", "set",
        "1.0.0", "Remove and return one or multiple random members from a set",
        .key_specs = "RW ACCESS DELETE index:1 range:0,1,0",
        .tips = "nondeterministic_output"),
    CMD_ROW("srandmember", srandmember_command, -2, CMD_READONLY, 1, 1, 1, "@read @set @slow",
        "set", "1.0.0", "Get one or multiple random members from a set",
        .key_specs = "RO ACCESS index:1 range:0,1,0",
        .tips = "nondeterministic_output"),
    CMD_ROW("smove", smove_command, 4, CMD_WRITE | CMD_FAST, 1, 2, 1, "@write @set @fast", "set",
        "1.0.0", "Move a member from one set to another",
        .key_specs = "RW ACCESS DELETE index:1 range:0,1,0; RW INSERT index:2 range:0,1,0"),
    CMD_ROW("sinter", sinter_command, -2, CMD_READONLY, 1, -1, 1, "@read @set @slow", "set",
        "1.0.0", "Intersect multiple sets",
        .key_specs = "RO ACCESS index:1 range:-1,1,0",
        .tips = "nondeterministic_output_order"),
    CMD_ROW("sintercard", sintercard_command, -3, CMD_READONLY | CMD_MOVABLEKEYS, 0, 0, 0,
        "@read @set @slow", "set", "7.0.0",
        "Intersect multiple sets and return the cardinality of the result",
        .keys_fn = sintercard_keys,
        .key_specs = "RO ACCESS index:1 keynum:0,1,1"),
    CMD_ROW("sunion", sunion_command, -2, CMD_READONLY, 1, -1, 1, "@read @set @slow", "set",
        "1.0.0", "Add multiple sets",
        .key_specs = "RO ACCESS index:1 range:-1,1,0",
        .tips = "nondeterministic_output_order"),
    CMD_ROW("sdiff", sdiff_command, -2, CMD_READONLY, 1, -1, 1, "@read @set @slow", "set", "1.0.0",
        "Subtract multiple sets",
        .key_specs = "RO ACCESS index:1 range:-1,1,0",
        .tips = "nondeterministic_output_order"),
    CMD_ROW("sinterstore", sinterstore_command, -3, CMD_WRITE | CMD_DENYOOM, 1, -1, 1,
        "@write @set @slow", "set", "1.0.0",
        "Intersect multiple sets and store the resulting set in a key",
        .key_specs = "RW UPDATE index:1 range:0,1,0; RO ACCESS index:2 range:-1,1,0"),
    CMD_ROW("sunionstore", sunionstore_command, -3, CMD_WRITE | CMD_DENYOOM, 1, -1, 1,
        "@write @set @slow", "set", "1.0.0",
        "Add multiple sets and store the resulting set in a key",
        .key_specs = "OW UPDATE index:1 range:0,1,0; RO ACCESS index:2 range:-1,1,0"),
    CMD_ROW("sdiffstore", sdiffstore_command, -3, CMD_WRITE | CMD_DENYOOM, 1, -1, 1,
        "@write @set @slow", "set", "1.0.0",
        "Subtract multiple sets and store the resulting set in a key",
        .key_specs = "OW UPDATE index:1 range:0,1,0; RO ACCESS index:2 range:-1,1,0"),
    CMD_ROW("sscan", sscan_command, -3, CMD_READONLY, 1, 1, 1, "@read @set @slow", "set", "2.8.0",
        "Incrementally iterate Set elements",
        .key_specs = "RO ACCESS index:1 range:0,1,0",
        .tips = "nondeterministic_output"),
    {0},
};
