/* cmd_list — the list commands, and the blocking ones (whose waits are
 * blocking.c's).
 *
 * Every handler runs with its keys' partitions held, checks its arguments in
 * the order Redis 7.0 does (so the same bad call gets the same error), and
 * changes an existing list in place, reporting it with db_modified. */
#include <limits.h>
#include <string.h>

#include "blocking.h"
#include "cmd_util.h"
#include "command.h"
#include "db.h"
#include "notify.h"
#include "object.h"
#include "resp.h"
#include "t_list.h"

#define ERR_POSITIVE "ERR value is out of range, must be positive"

static list_t *L(const obj_t *o)
{
    return o->v.ptr;
}

/* LEFT / RIGHT (LMOVE): 0 or -1 when neither. */
static int parse_where(sv_t s, int *where)
{
    if (sv_eq_ci(s, "left"))
        *where = LIST_HEAD;
    else if (sv_eq_ci(s, "right"))
        *where = LIST_TAIL;
    else
        return -1;
    return 0;
}

/* Shared by LPUSH, RPUSH, LPUSHX and RPUSHX: push every element in argument
 * order; the X forms (only_existing) do nothing on a missing key. */
static void push_generic(cmd_ctx_t *c, int where, int only_existing)
{
    sv_t key = c->argv[1];
    obj_t *o;
    list_t *l;

    if (t_lookup(c, key, OBJ_LIST, LOOKUP_WRITE, &o) != 0)
        return;
    if (!o) {
        if (only_existing) {
            reply_int(c->r, 0);
            return;
        }
        obj_t nv = obj_make(OBJ_LIST, list_new());
        for (int j = 2; j < c->argc; j++)
            list_push(nv.v.ptr, where, c->argv[j].p, c->argv[j].len);
        l = nv.v.ptr;
        db_add(c, key, &nv);
    } else {
        size_t before = obj_mem(o);
        l = L(o);
        for (int j = 2; j < c->argc; j++)
            list_push(l, where, c->argv[j].p, c->argv[j].len);
        db_modified(c, key, o, before);
    }
    notify_key(c, NOTIFY_LIST, where == LIST_HEAD ? "lpush" : "rpush", key);
    c->dirty += (uint64_t)(c->argc - 2);
    reply_int(c->r, (long long)list_len(l));
}

/* LPUSH key element [element ...] */
static void lpush_command(cmd_ctx_t *c)
{
    push_generic(c, LIST_HEAD, 0);
}

/* RPUSH key element [element ...] */
static void rpush_command(cmd_ctx_t *c)
{
    push_generic(c, LIST_TAIL, 0);
}

/* LPUSHX key element [element ...] */
static void lpushx_command(cmd_ctx_t *c)
{
    push_generic(c, LIST_HEAD, 1);
}

/* RPUSHX key element [element ...] */
static void rpushx_command(cmd_ctx_t *c)
{
    push_generic(c, LIST_TAIL, 1);
}

/* Pop up to count elements of an existing list at o, replying them as an
 * array (or a single bulk when !as_array), and report the change. */
static void pop_and_reply(cmd_ctx_t *c, sv_t key, obj_t *o, int where, long long count,
                          int as_array)
{
    size_t before = obj_mem(o);
    list_t *l = L(o);
    size_t n = list_len(l);

    if ((unsigned long long)count < n)
        n = (size_t)count;
    if (as_array)
        reply_array(c->r, (long)n);
    for (size_t i = 0; i < n; i++) {
        lelem_t *e = list_pop(l, where);
        reply_bulk(c->r, e->p, e->len);
        lelem_free(e);
    }
    c->dirty += n;
    int gone = db_modified(c, key, o, before);
    notify_key_gone(c, NOTIFY_LIST, where == LIST_HEAD ? "lpop" : "rpop", key, gone);
}

/* Shared by LPOP and RPOP: without a count, one element or a null; with a
 * count, an array (a null array when the key is missing). */
static void pop_generic(cmd_ctx_t *c, int where)
{
    sv_t key = c->argv[1];
    long long count = 1;
    int has_count = c->argc == 3;
    obj_t *o;

    if (c->argc > 3) {
        reply_wrong_arity(c->r, c->cmd->name);
        return;
    }
    if (has_count && (arg_ll(c, 2, &count, ERR_POSITIVE) != 0 || count < 0)) {
        if (count < 0)
            reply_error(c->r, ERR_POSITIVE);
        return;
    }
    if (t_lookup(c, key, OBJ_LIST, LOOKUP_WRITE, &o) != 0)
        return;
    if (!o) {
        if (has_count)
            reply_null_array(c->r);
        else
            reply_null(c->r);
        return;
    }
    if (has_count && count == 0) {
        reply_array(c->r, 0);
        return;
    }
    pop_and_reply(c, key, o, where, count, has_count);
}

/* LPOP key [count] */
static void lpop_command(cmd_ctx_t *c)
{
    pop_generic(c, LIST_HEAD);
}

/* RPOP key [count] */
static void rpop_command(cmd_ctx_t *c)
{
    pop_generic(c, LIST_TAIL);
}

/* LLEN key */
static void llen_command(cmd_ctx_t *c)
{
    obj_t *o;

    if (t_lookup(c, c->argv[1], OBJ_LIST, 0, &o) != 0)
        return;
    reply_int(c->r, o ? (long long)list_len(L(o)) : 0);
}

/* LRANGE key start stop */
static void lrange_command(cmd_ctx_t *c)
{
    long long start, end;
    size_t first = 0, n;
    obj_t *o;

    if (arg_ll(c, 2, &start, NULL) != 0 || arg_ll(c, 3, &end, NULL) != 0)
        return;
    if (t_lookup_or_reply(c, c->argv[1], OBJ_LIST, 0, MISS_EMPTY_ARRAY, &o) != 0)
        return;
    n = clamp_range(start, end, list_len(L(o)), &first);
    reply_array(c->r, (long)n);
    for (size_t i = 0; i < n; i++) {
        sv_t v = list_at(L(o), first + i);
        reply_bulk(c->r, v.p, v.len);
    }
}

/* An index (negative from the end) into a list of len; -1 when outside. */
static long long list_index(long long idx, size_t len)
{
    if (idx < 0)
        idx += (long long)len;
    return idx < 0 || idx >= (long long)len ? -1 : idx;
}

/* LINDEX key index */
static void lindex_command(cmd_ctx_t *c)
{
    long long idx;
    obj_t *o;

    if (arg_ll(c, 2, &idx, NULL) != 0)
        return;
    if (t_lookup(c, c->argv[1], OBJ_LIST, 0, &o) != 0)
        return;
    if (!o || (idx = list_index(idx, list_len(L(o)))) < 0) {
        reply_null(c->r);
        return;
    }
    sv_t v = list_at(L(o), (size_t)idx);
    reply_bulk(c->r, v.p, v.len);
}

/* LSET key index element */
static void lset_command(cmd_ctx_t *c)
{
    long long idx;
    obj_t *o;

    if (arg_ll(c, 2, &idx, NULL) != 0)
        return;
    if (t_lookup_or_reply(c, c->argv[1], OBJ_LIST, LOOKUP_WRITE, MISS_NO_KEY, &o) != 0)
        return;
    if ((idx = list_index(idx, list_len(L(o)))) < 0) {
        reply_error(c->r, "ERR index out of range");
        return;
    }
    size_t before = obj_mem(o);
    list_set(L(o), (size_t)idx, c->argv[3].p, c->argv[3].len);
    db_modified(c, c->argv[1], o, before);
    notify_key(c, NOTIFY_LIST, "lset", c->argv[1]);
    c->dirty++;
    reply_ok(c->r);
}

/* LREM key count element */
static void lrem_command(cmd_ctx_t *c)
{
    long long count;
    obj_t *o;

    if (arg_ll(c, 2, &count, NULL) != 0)
        return;
    if (t_lookup_or_reply(c, c->argv[1], OBJ_LIST, LOOKUP_WRITE, MISS_ZERO, &o) != 0)
        return;
    size_t before = obj_mem(o);
    /* |LLONG_MIN| does not fit: any count beyond the length means "all of
     * them from the tail" anyway. */
    size_t limit = count < 0 ? (count == LLONG_MIN ? SIZE_MAX : (size_t)-count) : (size_t)count;
    size_t removed = list_remove_matching(L(o), c->argv[3].p, c->argv[3].len, limit, count < 0);
    if (removed) {
        int gone = db_modified(c, c->argv[1], o, before);
        notify_key_gone(c, NOTIFY_LIST, "lrem", c->argv[1], gone);
        c->dirty += removed;
    }
    reply_int(c->r, (long long)removed);
}

/* LTRIM key start stop */
static void ltrim_command(cmd_ctx_t *c)
{
    long long start, end;
    size_t first = 0, n, len;
    obj_t *o;

    if (arg_ll(c, 2, &start, NULL) != 0 || arg_ll(c, 3, &end, NULL) != 0)
        return;
    if (t_lookup_or_reply(c, c->argv[1], OBJ_LIST, LOOKUP_WRITE, MISS_OK, &o) != 0)
        return;
    len = list_len(L(o));
    n = clamp_range(start, end, len, &first);
    size_t before = obj_mem(o);
    list_trim(L(o), first, n);
    int gone = db_modified(c, c->argv[1], o, before);
    notify_key_gone(c, NOTIFY_LIST, "ltrim", c->argv[1], gone);
    c->dirty += len - n;
    reply_ok(c->r);
}

/* LINSERT key <BEFORE | AFTER> pivot element */
static void linsert_command(cmd_ctx_t *c)
{
    sv_t pivot = c->argv[3], elem = c->argv[4];
    int after;
    obj_t *o;

    if (arg_is(c, 2, "after"))
        after = 1;
    else if (arg_is(c, 2, "before"))
        after = 0;
    else {
        reply_error(c->r, ERR_SYNTAX);
        return;
    }
    if (t_lookup_or_reply(c, c->argv[1], OBJ_LIST, LOOKUP_WRITE, MISS_ZERO, &o) != 0)
        return;
    list_t *l = L(o);
    for (size_t i = 0; i < list_len(l); i++) {
        sv_t v = list_at(l, i);
        if (v.len == pivot.len && (v.len == 0 || memcmp(v.p, pivot.p, v.len) == 0)) {
            size_t before = obj_mem(o);
            list_insert(l, i + (size_t)after, elem.p, elem.len);
            db_modified(c, c->argv[1], o, before);
            notify_key(c, NOTIFY_LIST, "linsert", c->argv[1]);
            c->dirty++;
            reply_int(c->r, (long long)list_len(l));
            return;
        }
    }
    reply_int(c->r, -1);
}

/* LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len] */
static void lpos_command(cmd_ctx_t *c)
{
    sv_t elem = c->argv[2];
    long long rank = 1, count = -1, maxlen = 0;
    obj_t *o;

    for (int j = 3; j < c->argc; j++) {
        int more = j + 1 < c->argc;
        if (arg_is(c, j, "rank") && more) {
            if (arg_ll(c, ++j, &rank, NULL) != 0)
                return;
            if (rank == 0) {
                reply_error(c->r, "ERR RANK can't be zero: use 1 to start from the first match, "
                                  "2 from the second ... or use negative to start from the end "
                                  "of the list");
                return;
            }
        } else if (arg_is(c, j, "count") && more) {
            if (arg_ll(c, ++j, &count, NULL) != 0)
                return;
            if (count < 0) {
                reply_error(c->r, "ERR COUNT can't be negative");
                return;
            }
        } else if (arg_is(c, j, "maxlen") && more) {
            if (arg_ll(c, ++j, &maxlen, NULL) != 0)
                return;
            if (maxlen < 0) {
                reply_error(c->r, "ERR MAXLEN can't be negative");
                return;
            }
        } else {
            reply_error(c->r, ERR_SYNTAX);
            return;
        }
    }
    if (t_lookup(c, c->argv[1], OBJ_LIST, 0, &o) != 0)
        return;
    if (!o) {
        if (count != -1)
            reply_array(c->r, 0);
        else
            reply_null(c->r);
        return;
    }

    list_t *l = L(o);
    size_t len = list_len(l);
    int from_tail = rank < 0;
    /* Redis 7.0 negates LLONG_MIN into itself, which then matches from the
     * first hit: the same as rank -1. */
    unsigned long long want = rank < 0 ? (rank == LLONG_MIN ? 1 : (unsigned long long)-rank)
                                       : (unsigned long long)rank;
    unsigned long long matches = 0;
    long long found = 0;
    size_t mark = 0;

    if (count != -1)
        mark = reply_defer(c->r);
    for (size_t k = 0; k < len && (maxlen == 0 || k < (unsigned long long)maxlen); k++) {
        size_t i = from_tail ? len - 1 - k : k;
        sv_t v = list_at(l, i);
        if (v.len != elem.len || (v.len && memcmp(v.p, elem.p, v.len) != 0))
            continue;
        if (++matches < want)
            continue;
        if (count == -1) {
            reply_int(c->r, (long long)i);
            return;
        }
        reply_int(c->r, (long long)i);
        if (++found == count)
            break;
    }
    if (count == -1)
        reply_null(c->r);
    else
        reply_defer_set(c->r, mark, '*', found);
}

/* Shared by LMOVE and RPOPLPUSH: pop from src at `from`, push to dst at `to`
 * (src and dst may be the same list: a rotation). */
static void lmove_generic(cmd_ctx_t *c, int from, int to)
{
    sv_t src = c->argv[1], dst = c->argv[2];
    obj_t *so, *dobj;

    if (t_lookup(c, src, OBJ_LIST, LOOKUP_WRITE, &so) != 0)
        return;
    if (!so) {
        reply_null(c->r);
        return;
    }
    if (t_lookup(c, dst, OBJ_LIST, LOOKUP_WRITE, &dobj) != 0)
        return;
    size_t sbefore = obj_mem(so);
    lelem_t *e = list_pop(L(so), from);
    reply_bulk(c->r, e->p, e->len);
    int gone = 0;
    if (dobj == so) {
        list_push_elem(L(so), to, e);
        db_modified(c, src, so, sbefore);
    } else {
        /* Report src first (it may be deleted when emptied), then look dst up
         * again: a pointer does not survive another write to its partition. */
        gone = db_modified(c, src, so, sbefore);
        dobj = db_lookup(c, dst, LOOKUP_WRITE | LOOKUP_NOTOUCH);
        if (!dobj) {
            obj_t nv = obj_make(OBJ_LIST, list_new());
            list_push_elem(nv.v.ptr, to, e);
            db_add(c, dst, &nv);
        } else {
            size_t dbefore = obj_mem(dobj);
            list_push_elem(L(dobj), to, e);
            db_modified(c, dst, dobj, dbefore);
        }
    }
    /* Redis's order: the push, then the pop (and the source's deletion) */
    notify_key(c, NOTIFY_LIST, to == LIST_HEAD ? "lpush" : "rpush", dst);
    notify_key_gone(c, NOTIFY_LIST, from == LIST_HEAD ? "lpop" : "rpop", src, gone);
    c->dirty++;
}

/* LMOVE source destination <LEFT | RIGHT> <LEFT | RIGHT> */
static void lmove_command(cmd_ctx_t *c)
{
    int from, to;

    if (parse_where(c->argv[3], &from) != 0 || parse_where(c->argv[4], &to) != 0) {
        reply_error(c->r, ERR_SYNTAX);
        return;
    }
    lmove_generic(c, from, to);
}

/* RPOPLPUSH source destination */
static void rpoplpush_command(cmd_ctx_t *c)
{
    lmove_generic(c, LIST_TAIL, LIST_HEAD);
}

/* ---- BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP ---------------------------------------
 * Each answers as its non-blocking form when a key holds a list; otherwise,
 * when the caller may block, it waits (blocking_wait) and blocking.c later
 * runs it again for the client, as its single-key form, on the key that got
 * a value. Inside EXEC or a script it answers null at once. */

/* Shared by BLPOP and BRPOP: key [key ...] timeout. */
static void bpop_generic(cmd_ctx_t *c, int where)
{
    uint64_t timeout;
    obj_t *o;

    if (blocking_timeout_arg(c, c->argc - 1, &timeout) != 0)
        return;
    for (int j = 1; j < c->argc - 1; j++) {
        sv_t key = c->argv[j];
        if (t_lookup(c, key, OBJ_LIST, LOOKUP_WRITE, &o) != 0)
            return;
        if (o) {
            reply_array(c->r, 2);
            reply_bulk(c->r, key.p, key.len);
            pop_and_reply(c, key, o, where, 1, 0);
            return;
        }
    }
    if (!blocking_wait(c, 1, c->argc - 2, 0, 0, timeout, OBJ_LIST))
        reply_null_array(c->r);
}

/* BLPOP key [key ...] timeout */
static void blpop_command(cmd_ctx_t *c)
{
    bpop_generic(c, LIST_HEAD);
}

/* BRPOP key [key ...] timeout */
static void brpop_command(cmd_ctx_t *c)
{
    bpop_generic(c, LIST_TAIL);
}

/* Shared by BLMOVE and BRPOPLPUSH: an empty source blocks whatever the
 * destination holds (its type is checked when served, as Redis 7.0). */
static void blmove_generic(cmd_ctx_t *c, int from, int to, int timeout_at)
{
    uint64_t timeout;
    obj_t *so;

    if (blocking_timeout_arg(c, timeout_at, &timeout) != 0)
        return;
    if (t_lookup(c, c->argv[1], OBJ_LIST, LOOKUP_WRITE, &so) != 0)
        return;
    if (so) {
        lmove_generic(c, from, to);
        return;
    }
    if (!blocking_wait(c, 1, 1, 0, 2, timeout, OBJ_LIST))
        reply_null(c->r);
}

/* BLMOVE source destination <LEFT | RIGHT> <LEFT | RIGHT> timeout */
static void blmove_command(cmd_ctx_t *c)
{
    int from, to;

    if (parse_where(c->argv[3], &from) != 0 || parse_where(c->argv[4], &to) != 0) {
        reply_error(c->r, ERR_SYNTAX);
        return;
    }
    blmove_generic(c, from, to, 5);
}

/* BRPOPLPUSH source destination timeout */
static void brpoplpush_command(cmd_ctx_t *c)
{
    blmove_generic(c, LIST_TAIL, LIST_HEAD, 3);
}

static void lmpop_pop(cmd_ctx_t *c, sv_t key, obj_t *o, int right, long long count)
{
    pop_and_reply(c, key, o, right ? LIST_TAIL : LIST_HEAD, count, 1);
}

/* LMPOP numkeys key [key ...] <LEFT | RIGHT> [COUNT count] */
static void lmpop_command(cmd_ctx_t *c)
{
    mpop_generic(c, OBJ_LIST, "left", "right", lmpop_pop);
}

/* BLMPOP timeout numkeys key [key ...] <LEFT | RIGHT> [COUNT count] */
static void blmpop_command(cmd_ctx_t *c)
{
    bmpop_generic(c, OBJ_LIST, "left", "right", lmpop_pop);
}

const command_t cmds_list[] = {
    CMD_ROW("lpush", lpush_command, -3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
        "@write @list @fast", "list", "1.0.0", "Prepend one or multiple elements to a list",
        .key_specs = "RW INSERT index:1 range:0,1,0"),
    CMD_ROW("rpush", rpush_command, -3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
        "@write @list @fast", "list", "1.0.0", "Append one or multiple elements to a list",
        .key_specs = "RW INSERT index:1 range:0,1,0"),
    CMD_ROW("lpushx", lpushx_command, -3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
        "@write @list @fast", "list", "2.2.0",
        "Prepend an element to a list, only if the list exists",
        .key_specs = "RW INSERT index:1 range:0,1,0"),
    CMD_ROW("rpushx", rpushx_command, -3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
        "@write @list @fast", "list", "2.2.0",
        "Append an element to a list, only if the list exists",
        .key_specs = "RW INSERT index:1 range:0,1,0"),
    CMD_ROW("lpop", lpop_command, -2, CMD_WRITE | CMD_FAST, 1, 1, 1, "@write @list @fast", "list",
        "1.0.0", "Remove and get the first elements in a list",
        .key_specs = "RW ACCESS DELETE index:1 range:0,1,0"),
    CMD_ROW("rpop", rpop_command, -2, CMD_WRITE | CMD_FAST, 1, 1, 1, "@write @list @fast", "list",
        "1.0.0", "Remove and get the last elements in a list",
        .key_specs = "RW ACCESS DELETE index:1 range:0,1,0"),
    CMD_ROW("llen", llen_command, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @list @fast", "list",
        "1.0.0", "Get the length of a list",
        .key_specs = "RO index:1 range:0,1,0"),
    CMD_ROW("lrange", lrange_command, 4, CMD_READONLY, 1, 1, 1, "@read @list @slow", "list",
        "1.0.0", "Get a range of elements from a list",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("lindex", lindex_command, 3, CMD_READONLY, 1, 1, 1, "@read @list @slow", "list",
        "1.0.0", "Get an element from a list by its index",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("lset", lset_command, 4, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, "@write @list @slow", "list",
        "1.0.0", "Set the value of an element in a list by its index",
        .key_specs = "RW UPDATE index:1 range:0,1,0"),
    CMD_ROW("lrem", lrem_command, 4, CMD_WRITE, 1, 1, 1, "@write @list @slow", "list", "1.0.0",
        "Remove elements from a list",
        .key_specs = "RW DELETE index:1 range:0,1,0"),
    CMD_ROW("ltrim", ltrim_command, 4, CMD_WRITE, 1, 1, 1, "@write @list @slow", "list", "1.0.0",
        "Trim a list to the specified range",
        .key_specs = "RW DELETE index:1 range:0,1,0"),
    CMD_ROW("linsert", linsert_command, 5, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, "@write @list @slow",
        "list", "2.2.0", "Insert an element before or after another element in a list",
        .key_specs = "RW INSERT index:1 range:0,1,0"),
    CMD_ROW("lpos", lpos_command, -3, CMD_READONLY, 1, 1, 1, "@read @list @slow", "list", "6.0.6",
        "Return the index of matching elements on a list",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("rpoplpush", rpoplpush_command, 3, CMD_WRITE | CMD_DENYOOM, 1, 2, 1,
        "@write @list @slow", "list", "1.2.0",
        "Remove the last element in a list, prepend it to another list and return it",
        .key_specs = "RW ACCESS DELETE index:1 range:0,1,0; RW INSERT index:2 range:0,1,0"),
    CMD_ROW("lmove", lmove_command, 5, CMD_WRITE | CMD_DENYOOM, 1, 2, 1, "@write @list @slow",
        "list", "6.2.0", "Pop an element from a list, push it to another list and return it",
        .key_specs = "RW ACCESS DELETE index:1 range:0,1,0; RW INSERT index:2 range:0,1,0"),
    CMD_ROW("lmpop", lmpop_command, -4, CMD_WRITE | CMD_MOVABLEKEYS, 0, 0, 0, "@write @list @slow",
        "list", "7.0.0", "Pop elements from a list", .keys_fn = mpop_keys,
        .key_specs = "RW ACCESS DELETE index:1 keynum:0,1,1"),
    CMD_ROW("blpop", blpop_command, -3, CMD_WRITE | CMD_NOSCRIPT | CMD_BLOCKING, 1, -2, 1,
        "@write @list @slow @blocking", "list", "2.0.0",
        "Remove and get the first element in a list, or block until one is available",
        .key_specs = "RW ACCESS DELETE index:1 range:-2,1,0"),
    CMD_ROW("brpop", brpop_command, -3, CMD_WRITE | CMD_NOSCRIPT | CMD_BLOCKING, 1, -2, 1,
        "@write @list @slow @blocking", "list", "2.0.0",
        "Remove and get the last element in a list, or block until one is available",
        .key_specs = "RW ACCESS DELETE index:1 range:-2,1,0"),
    CMD_ROW("brpoplpush", brpoplpush_command, 4,
        CMD_WRITE | CMD_DENYOOM | CMD_NOSCRIPT | CMD_BLOCKING, 1, 2, 1,
        "@write @list @slow @blocking", "list", "2.2.0",
        "Pop an element from a list, push it to another list and return it; or block until "
        "one is available",
        .key_specs = "RW ACCESS DELETE index:1 range:0,1,0; RW INSERT index:2 range:0,1,0"),
    CMD_ROW("blmove", blmove_command, 6, CMD_WRITE | CMD_DENYOOM | CMD_NOSCRIPT | CMD_BLOCKING,
        1, 2, 1, "@write @list @slow @blocking", "list", "6.2.0",
        "Pop an element from a list, push it to another list and return it; or block until "
        "one is available",
        .key_specs = "RW ACCESS DELETE index:1 range:0,1,0; RW INSERT index:2 range:0,1,0"),
    CMD_ROW("blmpop", blmpop_command, -5, CMD_WRITE | CMD_BLOCKING | CMD_MOVABLEKEYS, 0, 0, 0,
        "@write @list @slow @blocking", "list", "7.0.0",
        "Pop elements from a list, or block until one is available", .keys_fn = bmpop_keys,
        .key_specs = "RW ACCESS DELETE index:2 keynum:0,1,1"),
    {0},
};
