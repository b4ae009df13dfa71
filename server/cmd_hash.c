/* cmd_hash — the hash commands.
 *
 * Every handler runs with its key's partition held, validates its arguments
 * in Redis 7.0's order, and changes an existing hash in place, reporting the
 * change with db_modified (a hash emptied by HDEL is deleted there). */
#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include "cmd_util.h"
#include "command.h"
#include "db.h"
#include "notify.h"
#include "object.h"
#include "resp.h"
#include "t_common.h"
#include "t_hash.h"

static hash_t *H(const obj_t *o)
{
    return o->v.ptr;
}

static void reply_sv(cmd_ctx_t *c, sv_t v)
{
    reply_bulk(c->r, v.p, v.len);
}

/* hash_set / hash_del on the hash held by o (they may move it). */
static int oset(obj_t *o, sv_t f, const char *v, size_t vlen)
{
    hash_t *h = o->v.ptr;
    int r = hash_set(&h, f.p, f.len, v, vlen);
    o->v.ptr = h;
    return r;
}

/* The object holding the hash at key for a write, creating it (not yet
 * stored: *o is NULL and the caller db_adds *fresh) when missing; NULL after
 * WRONGTYPE. */
static obj_t *hash_for_write(cmd_ctx_t *c, sv_t key, obj_t **o, obj_t *fresh, size_t *before)
{
    if (t_lookup(c, key, OBJ_HASH, LOOKUP_WRITE, o) != 0)
        return NULL;
    if (*o) {
        *before = obj_mem(*o);
        return *o;
    }
    *fresh = obj_make(OBJ_HASH, hash_new());
    return fresh;
}

/* Store a hash obtained from hash_for_write: add a fresh one, or report the
 * change to an existing one; then raise the command's keyspace event. */
static void hash_written(cmd_ctx_t *c, sv_t key, obj_t *o, obj_t *fresh, size_t before,
                         const char *event)
{
    if (o)
        db_modified(c, key, o, before);
    else
        db_add(c, key, fresh);
    notify_key(c, NOTIFY_HASH, event, key);
}

/* Shared by HSET and HMSET: set every field/value pair; returns how many
 * fields were new, or -1 after replying an error. */
static long long hset_generic(cmd_ctx_t *c)
{
    obj_t *o, fresh;
    size_t before = 0;
    long long added = 0;
    obj_t *h;

    if (c->argc % 2 == 1) {
        reply_wrong_arity(c->r, c->cmd->name);
        return -1;
    }
    if (!(h = hash_for_write(c, c->argv[1], &o, &fresh, &before)))
        return -1;
    for (int j = 2; j < c->argc; j += 2)
        added += oset(h, c->argv[j], c->argv[j + 1].p, c->argv[j + 1].len);
    hash_written(c, c->argv[1], o, &fresh, before, "hset");
    c->dirty += (uint64_t)(c->argc - 2) / 2;
    return added;
}

/* HSET key field value [field value ...] */
static void hset_command(cmd_ctx_t *c)
{
    long long added = hset_generic(c);
    if (added >= 0)
        reply_int(c->r, added);
}

/* HMSET key field value [field value ...] */
static void hmset_command(cmd_ctx_t *c)
{
    if (hset_generic(c) >= 0)
        reply_ok(c->r);
}

/* HSETNX key field value */
static void hsetnx_command(cmd_ctx_t *c)
{
    obj_t *o, fresh;
    size_t before = 0;
    obj_t *h;

    if (!(h = hash_for_write(c, c->argv[1], &o, &fresh, &before)))
        return;
    if (o && hash_get(H(h), c->argv[2].p, c->argv[2].len, NULL)) {
        reply_int(c->r, 0);
        return;
    }
    oset(h, c->argv[2], c->argv[3].p, c->argv[3].len);
    hash_written(c, c->argv[1], o, &fresh, before, "hset");
    c->dirty++;
    reply_int(c->r, 1);
}

/* Shared by HGET and HMGET: the value of field f in o (NULL: no such key),
 * or a null. */
static void reply_field_value(cmd_ctx_t *c, const obj_t *o, sv_t f)
{
    sv_t v;

    if (o && hash_get(H(o), f.p, f.len, &v))
        reply_sv(c, v);
    else
        reply_null(c->r);
}

/* HGET key field */
static void hget_command(cmd_ctx_t *c)
{
    member_reply_generic(c, OBJ_HASH, reply_field_value, 0);
}

/* HMGET key field [field ...] */
static void hmget_command(cmd_ctx_t *c)
{
    member_reply_generic(c, OBJ_HASH, reply_field_value, 1);
}

static int del_field(void **slot, sv_t f)
{
    hash_t *h = *slot;
    int r = hash_del(&h, f.p, f.len);
    *slot = h;
    return r;
}

/* HDEL key field [field ...] */
static void hdel_command(cmd_ctx_t *c)
{
    member_del_generic(c, OBJ_HASH, del_field);
}

/* HLEN key */
static void hlen_command(cmd_ctx_t *c)
{
    obj_t *o;

    if (t_lookup(c, c->argv[1], OBJ_HASH, 0, &o) != 0)
        return;
    reply_int(c->r, o ? (long long)hash_len(H(o)) : 0);
}

/* HSTRLEN key field */
static void hstrlen_command(cmd_ctx_t *c)
{
    obj_t *o;
    sv_t v = {"", 0};

    if (t_lookup(c, c->argv[1], OBJ_HASH, 0, &o) != 0)
        return;
    if (o)
        hash_get(H(o), c->argv[2].p, c->argv[2].len, &v);
    reply_int(c->r, (long long)v.len);
}

/* HEXISTS key field */
static void hexists_command(cmd_ctx_t *c)
{
    obj_t *o;

    if (t_lookup(c, c->argv[1], OBJ_HASH, 0, &o) != 0)
        return;
    reply_int(c->r, o && hash_get(H(o), c->argv[2].p, c->argv[2].len, NULL) ? 1 : 0);
}

enum { GET_FIELDS = 1, GET_VALUES = 2 };

/* Shared by HGETALL (a map), HKEYS and HVALS (arrays). */
static void getall_generic(cmd_ctx_t *c, int what)
{
    obj_t *o;
    hash_iter_t it = {0, NULL};
    hfield_t kv, *e = &kv;
    int both = what == (GET_FIELDS | GET_VALUES);

    if (t_lookup(c, c->argv[1], OBJ_HASH, 0, &o) != 0)
        return;
    long n = o ? (long)hash_len(H(o)) : 0;
    if (both)
        reply_map(c->r, n);
    else
        reply_array(c->r, n);
    if (!o)
        return;
    while (hash_next(H(o), &it, &kv)) {
        if (what & GET_FIELDS)
            reply_sv(c, hf_field(e));
        if (what & GET_VALUES)
            reply_sv(c, hf_value(e));
    }
}

/* HGETALL key */
static void hgetall_command(cmd_ctx_t *c)
{
    getall_generic(c, GET_FIELDS | GET_VALUES);
}

/* HKEYS key */
static void hkeys_command(cmd_ctx_t *c)
{
    getall_generic(c, GET_FIELDS);
}

/* HVALS key */
static void hvals_command(cmd_ctx_t *c)
{
    getall_generic(c, GET_VALUES);
}

/* HINCRBY key field increment */
static void hincrby_command(cmd_ctx_t *c)
{
    long long incr, v = 0;
    obj_t *o, fresh;
    size_t before = 0;
    obj_t *h;
    sv_t cur;
    char buf[24];

    if (arg_ll(c, 3, &incr, NULL) != 0)
        return;
    if (!(h = hash_for_write(c, c->argv[1], &o, &fresh, &before)))
        return;
    if (hash_get(H(h), c->argv[2].p, c->argv[2].len, &cur)) {
        if (str_to_ll(cur.p, cur.len, &v) != 0) {
            reply_error(c->r, "ERR hash value is not an integer");
            return;
        }
    }
    if ((incr < 0 && v < 0 && incr < LLONG_MIN - v) || (incr > 0 && v > 0 && incr > LLONG_MAX - v)) {
        if (!o)
            obj_free(&fresh);
        reply_error(c->r, ERR_OVERFLOW);
        return;
    }
    v += incr;
    int n = ll_to_str(buf, v);
    oset(h, c->argv[2], buf, (size_t)n);
    hash_written(c, c->argv[1], o, &fresh, before, "hincrby");
    c->dirty++;
    reply_int(c->r, v);
}

/* HINCRBYFLOAT key field increment */
static void hincrbyfloat_command(cmd_ctx_t *c)
{
    long double incr, v = 0;
    obj_t *o, fresh;
    size_t before = 0;
    obj_t *h;
    sv_t cur;
    char *buf;
    int n;

    if (str_to_ld(c->argv[3].p, c->argv[3].len, &incr) != 0) {
        reply_error(c->r, ERR_NOT_FLOAT);
        return;
    }
    if (isnan(incr) || isinf(incr)) {
        reply_error(c->r, "ERR value is NaN or Infinity");
        return;
    }
    if (!(h = hash_for_write(c, c->argv[1], &o, &fresh, &before)))
        return;
    if (hash_get(H(h), c->argv[2].p, c->argv[2].len, &cur)) {
        if (str_to_ld(cur.p, cur.len, &v) != 0) {
            reply_error(c->r, "ERR hash value is not a float");
            return;
        }
    }
    v += incr;
    if (isnan(v) || isinf(v)) {
        if (!o)
            obj_free(&fresh);
        reply_error(c->r, "ERR increment would produce NaN or Infinity");
        return;
    }
    buf = xmalloc(LD_STR_MAX);
    n = format_ld_human(buf, LD_STR_MAX, v);
    if (n < 0) { /* not for a finite long double; be safe anyway */
        free(buf);
        if (!o)
            obj_free(&fresh);
        reply_error(c->r, "ERR increment would produce NaN or Infinity");
        return;
    }
    oset(h, c->argv[2], buf, (size_t)n);
    hash_written(c, c->argv[1], o, &fresh, before, "hincrbyfloat");
    c->dirty++;
    reply_bulk(c->r, buf, (size_t)n);
    free(buf);
}

/* One HRANDFIELD element: the field, its value with WITHVALUES (a [field,
 * value] pair in RESP3). */
static void reply_rand_field(cmd_ctx_t *c, const hfield_t *e, int withvalues)
{
    if (withvalues && c->r->proto >= 3)
        reply_array(c->r, 2);
    reply_sv(c, hf_field(e));
    if (withvalues)
        reply_sv(c, hf_value(e));
}

/* HRANDFIELD's picks, for randmember_generic. */
static void hrand_one(cmd_ctx_t *c, void *h, int withvalues)
{
    hfield_t kv;
    if (hash_random(h, &kv))
        reply_rand_field(c, &kv, withvalues);
}

static void hrand_distinct(cmd_ctx_t *c, void *h, size_t count, int withvalues)
{
    size_t want = count < hash_len(h) ? count : hash_len(h);
    hfield_t *pick = xmalloc((want ? want : 1) * sizeof *pick);
    size_t got = hash_random_distinct(h, pick, want);
    reply_array(c->r, (long)(withvalues && c->r->proto < 3 ? got * 2 : got));
    for (size_t i = 0; i < got; i++)
        reply_rand_field(c, &pick[i], withvalues);
    free(pick);
}

/* HRANDFIELD key [count [WITHVALUES]] */
static void hrandfield_command(cmd_ctx_t *c)
{
    randmember_generic(c, OBJ_HASH, "withvalues", hrand_one, hrand_distinct);
}

static void hscan_cb(void *arg, const hfield_t *e)
{
    scan_acc_t *acc = arg;
    if (!scan_match(acc->opts, hf_field(e)))
        return;
    scan_push(&acc->items, e->f.p, e->f.len);
    sv_t v = hf_value(e);
    scan_push(&acc->items, v.p, v.len);
    acc->n += 2;
}

/* HSCAN's walk, for scan_generic. */
static uint64_t hscan_walk(void *h, uint64_t cursor, long long count, scan_acc_t *acc)
{
    return hash_scan(h, cursor, hscan_cb, acc, count);
}

/* HSCAN key cursor [MATCH pattern] [COUNT count] */
static void hscan_command(cmd_ctx_t *c)
{
    scan_generic(c, OBJ_HASH, hscan_walk);
}

const command_t cmds_hash[] = {
    CMD_ROW("hset", hset_command, -4, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
        "@write @hash @fast", "hash", "2.0.0", "Set the string value of a hash field",
        .key_specs = "RW UPDATE index:1 range:0,1,0"),
    CMD_ROW("hsetnx", hsetnx_command, 4, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
        "@write @hash @fast", "hash", "2.0.0",
        "Set the value of a hash field, only if the field does not exist",
        .key_specs = "RW INSERT index:1 range:0,1,0"),
    CMD_ROW("hmset", hmset_command, -4, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
        "@write @hash @fast", "hash", "2.0.0", "Set multiple hash fields to multiple values",
        .key_specs = "RW UPDATE index:1 range:0,1,0"),
    CMD_ROW("hget", hget_command, 3, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @hash @fast", "hash",
        "2.0.0", "Get the value of a hash field",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("hmget", hmget_command, -3, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @hash @fast",
        "hash", "2.0.0", "Get the values of all the given hash fields",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("hdel", hdel_command, -3, CMD_WRITE | CMD_FAST, 1, 1, 1, "@write @hash @fast", "hash",
        "2.0.0", "Delete one or more hash fields",
        .key_specs = "RW DELETE index:1 range:0,1,0"),
    CMD_ROW("hlen", hlen_command, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @hash @fast", "hash",
        "2.0.0", "Get the number of fields in a hash",
        .key_specs = "RO index:1 range:0,1,0"),
    CMD_ROW("hexists", hexists_command, 3, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @hash @fast",
        "hash", "2.0.0", "Determine if a hash field exists",
        .key_specs = "RO index:1 range:0,1,0"),
    CMD_ROW("hgetall", hgetall_command, 2, CMD_READONLY, 1, 1, 1, "@read @hash @slow", "hash",
        "2.0.0", "Get all the fields and values in a hash",
        .key_specs = "RO ACCESS index:1 range:0,1,0",
        .tips = "nondeterministic_output_order"),
    CMD_ROW("hkeys", hkeys_command, 2, CMD_READONLY, 1, 1, 1, "@read @hash @slow", "hash", "2.0.0",
        "Get all the fields in a hash",
        .key_specs = "RO ACCESS index:1 range:0,1,0",
        .tips = "nondeterministic_output_order"),
    CMD_ROW("hvals", hvals_command, 2, CMD_READONLY, 1, 1, 1, "@read @hash @slow", "hash", "2.0.0",
        "Get all the values in a hash",
        .key_specs = "RO ACCESS index:1 range:0,1,0",
        .tips = "nondeterministic_output_order"),
    CMD_ROW("hincrby", hincrby_command, 4, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
        "@write @hash @fast", "hash", "2.0.0",
        "Increment the integer value of a hash field by the given number",
        .key_specs = "RW ACCESS UPDATE index:1 range:0,1,0"),
    CMD_ROW("hincrbyfloat", hincrbyfloat_command, 4, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
        "@write @hash @fast", "hash", "2.6.0",
        "Increment the float value of a hash field by the given amount",
        .key_specs = "RW ACCESS UPDATE index:1 range:0,1,0"),
    CMD_ROW("hstrlen", hstrlen_command, 3, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @hash @fast",
        "hash", "3.2.0", "Get the length of the value of a hash field",
        .key_specs = "RO index:1 range:0,1,0"),
    CMD_ROW("hrandfield", hrandfield_command, -2, CMD_READONLY, 1, 1, 1, "@read @hash @slow",
        "hash", "6.2.0", "Get one or multiple random fields from a hash",
        .key_specs = "RO ACCESS index:1 range:0,1,0",
        .tips = "nondeterministic_output"),
    CMD_ROW("hscan", hscan_command, -3, CMD_READONLY, 1, 1, 1, "@read @hash @slow", "hash", "2.8.0",
        "Incrementally iterate hash fields and associated values",
        .key_specs = "RO ACCESS index:1 range:0,1,0",
        .tips = "nondeterministic_output"),
    {0},
};
