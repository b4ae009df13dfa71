/* cmd_string — the string commands: GET/SET and their variants, multi-key
 * MGET/MSET, APPEND and ranges, integer and float arithmetic.
 *
 * Every handler runs with its keys' partitions held by its task (multi-key
 * commands hold all of theirs, so they are atomic), and replies exactly as
 * Redis 7.0 does, including the order in which errors are detected. */
#include <limits.h>
#include <math.h>
#include <stdint.h>

#include "cmd_util.h"
#include "command.h"
#include "db.h"
#include "notify.h"
#include "object.h"
#include "resp.h"

/* Options of SET and GETEX, as parsed by parse_ext_opts. */
enum {
    OPT_NX = 1 << 0,
    OPT_XX = 1 << 1,
    OPT_GET = 1 << 2,
    OPT_KEEPTTL = 1 << 3,
    OPT_PERSIST = 1 << 4,
    OPT_EX = 1 << 5,
    OPT_PX = 1 << 6,
    OPT_EXAT = 1 << 7,
    OPT_PXAT = 1 << 8,
};
#define OPT_ANY_EXPIRE (OPT_EX | OPT_PX | OPT_EXAT | OPT_PXAT)

/* Which command takes an option, as Redis's COMMAND_SET / COMMAND_GET. */
enum { FOR_SET = 1 << 0, FOR_GETEX = 1 << 1 };

/* An expire option conflicts with the other expire options, KEEPTTL and
 * PERSIST; not with itself. */
#define EXPIRE_CONFLICTS(self) (OPT_KEEPTTL | OPT_PERSIST | (OPT_ANY_EXPIRE & ~(self)))

/* The options of SET and GETEX: the commands that take each, and the options
 * that, already given, make it a syntax error (repeating the same option is
 * not one: the last time wins). The expire options are followed by a time. */
static const struct ext_opt {
    const char *name;
    int flag;
    int cmds;
    int conflicts;
} ext_opts[] = {
    {"nx", OPT_NX, FOR_SET, OPT_XX},
    {"xx", OPT_XX, FOR_SET, OPT_NX},
    {"get", OPT_GET, FOR_SET, 0},
    {"keepttl", OPT_KEEPTTL, FOR_SET, OPT_ANY_EXPIRE | OPT_PERSIST},
    {"persist", OPT_PERSIST, FOR_GETEX, OPT_ANY_EXPIRE | OPT_KEEPTTL},
    {"ex", OPT_EX, FOR_SET | FOR_GETEX, EXPIRE_CONFLICTS(OPT_EX)},
    {"px", OPT_PX, FOR_SET | FOR_GETEX, EXPIRE_CONFLICTS(OPT_PX)},
    {"exat", OPT_EXAT, FOR_SET | FOR_GETEX, EXPIRE_CONFLICTS(OPT_EXAT)},
    {"pxat", OPT_PXAT, FOR_SET | FOR_GETEX, EXPIRE_CONFLICTS(OPT_PXAT)},
};

static int reply_if_not_string(cmd_ctx_t *c, const obj_t *o)
{
    if (o && o->type != OBJ_STRING) {
        reply_error(c->r, ERR_WRONGTYPE);
        return 1;
    }
    return 0;
}

static void reply_string_obj(cmd_ctx_t *c, const obj_t *o)
{
    char tmp[24];
    sv_t v = obj_str(o, tmp);
    reply_bulk(c->r, v.p, v.len);
}

/* Whether a string of len bytes grown by add would pass proto-max-bulk-len
 * (or wrap around size_t). Replies the error when it would. */
static int reply_if_too_long(cmd_ctx_t *c, size_t len, size_t add)
{
    if (len + add < len || len + add > cmd_max_bulk_len()) {
        reply_error(c->r, ERR_STRING_TOO_LONG);
        return 1;
    }
    return 0;
}

/* Parse SET's options (from argument 3, cmd FOR_SET) or GETEX's (from 2,
 * FOR_GETEX) with Redis's acceptance rules (see ext_opts). *exp_idx gets the
 * index of the time argument, 0 when there is none. */
static int parse_ext_opts(cmd_ctx_t *c, int first, int cmd, int *flags, int *exp_idx)
{
    for (int j = first; j < c->argc; j++) {
        const struct ext_opt *o = NULL;
        int timed;

        for (size_t k = 0; k < sizeof(ext_opts) / sizeof(ext_opts[0]) && !o; k++)
            if (arg_is(c, j, ext_opts[k].name))
                o = &ext_opts[k];
        timed = o && (o->flag & OPT_ANY_EXPIRE);
        if (!o || !(o->cmds & cmd) || (*flags & o->conflicts) || (timed && j + 1 >= c->argc)) {
            reply_error(c->r, ERR_SYNTAX);
            return -1;
        }
        *flags |= o->flag;
        if (timed)
            *exp_idx = ++j;
    }
    return 0;
}

/* Turn the time argument of SET/SETEX/PSETEX/GETEX into an absolute unix time
 * in ms. Unlike EXPIRE, these commands refuse times <= 0 and any overflow. */
static int expire_ms_or_reply(cmd_ctx_t *c, int idx, int flags, int64_t *when)
{
    long long v;
    int seconds = flags & (OPT_EX | OPT_EXAT);

    if (arg_ll(c, idx, &v, NULL) != 0)
        return -1;
    if (v <= 0 || (seconds && v > LLONG_MAX / 1000))
        goto invalid;
    if (seconds)
        v *= 1000;
    if (flags & (OPT_EX | OPT_PX)) {
        if (v > LLONG_MAX - (long long)c->now_ms)
            goto invalid;
        v += (long long)c->now_ms;
    }
    *when = v;
    return 0;
invalid:
    reply_errorf(c->r, ERR_INVALID_EXPIRE, c->cmd->name);
    return -1;
}

/* The GET part shared by GET, GETSET and SET ... GET: replies the value or a
 * null; -1 (after replying WRONGTYPE) when the key holds another type. *found
 * tells whether the key exists. */
static int get_generic(cmd_ctx_t *c, sv_t key, int *found)
{
    obj_t *o = db_lookup(c, key, 0);

    if (reply_if_not_string(c, o))
        return -1;
    if (o)
        reply_string_obj(c, o);
    else
        reply_null(c->r);
    *found = o != NULL;
    return 0;
}

/* One implementation for SET, SETNX, SETEX, PSETEX and GETSET. exp_idx is the
 * index of the time argument (0: none), its unit given by the OPT_* flag.
 * int_reply: SETNX's :1/:0 instead of +OK/null. */
static void set_generic(cmd_ctx_t *c, int flags, sv_t key, sv_t val, int exp_idx, int int_reply)
{
    int64_t when = 0;
    int found;

    /* The time is validated before anything is read, so a bad one never
     * replies a value. */
    if (exp_idx && expire_ms_or_reply(c, exp_idx, flags, &when) != 0)
        return;
    if (flags & OPT_GET) {
        if (get_generic(c, key, &found) != 0)
            return;
    } else {
        found = db_lookup(c, key, LOOKUP_WRITE) != NULL;
    }

    if (((flags & OPT_NX) && found) || ((flags & OPT_XX) && !found)) {
        if (flags & OPT_GET)
            return; /* the old value (or null) was the reply */
        if (int_reply)
            reply_int(c->r, 0);
        else
            reply_null(c->r);
        return;
    }

    db_set_string(c, key, val.p, val.len, (flags & OPT_KEEPTTL) != 0);
    notify_key(c, NOTIFY_STRING, "set", key);
    /* A PXAT/EXAT already past expires the key here, which is what Redis's
     * expiry would do soon after: "expire" comes first, then "expired". */
    if (exp_idx) {
        notify_key(c, NOTIFY_GENERIC, "expire", key);
        db_set_expire(c, key, when);
    }
    c->dirty++;

    if (flags & OPT_GET)
        return;
    if (int_reply)
        reply_int(c->r, 1);
    else
        reply_ok(c->r);
}

/* GET key */
static void get_command(cmd_ctx_t *c)
{
    int found;
    get_generic(c, c->argv[1], &found);
}

/* SET key value [NX | XX] [GET] [EX seconds | PX milliseconds |
 *   EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL] */
static void set_command(cmd_ctx_t *c)
{
    int flags = 0, exp_idx = 0;

    if (parse_ext_opts(c, 3, FOR_SET, &flags, &exp_idx) != 0)
        return;
    set_generic(c, flags, c->argv[1], c->argv[2], exp_idx, 0);
}

/* SETNX key value */
static void setnx_command(cmd_ctx_t *c)
{
    set_generic(c, OPT_NX, c->argv[1], c->argv[2], 0, 1);
}

/* SETEX key seconds value */
static void setex_command(cmd_ctx_t *c)
{
    set_generic(c, OPT_EX, c->argv[1], c->argv[3], 2, 0);
}

/* PSETEX key milliseconds value */
static void psetex_command(cmd_ctx_t *c)
{
    set_generic(c, OPT_PX, c->argv[1], c->argv[3], 2, 0);
}

/* GETSET key value */
static void getset_command(cmd_ctx_t *c)
{
    set_generic(c, OPT_GET, c->argv[1], c->argv[2], 0, 0);
}

/* GETDEL key */
static void getdel_command(cmd_ctx_t *c)
{
    int found;

    if (get_generic(c, c->argv[1], &found) != 0 || !found)
        return;
    db_delete_notify(c, c->argv[1]);
    c->dirty++;
}

/* GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds |
 *   PXAT unix-time-milliseconds | PERSIST] */
static void getex_command(cmd_ctx_t *c)
{
    int flags = 0, exp_idx = 0;
    int64_t when = 0;
    sv_t key = c->argv[1];
    obj_t *o;

    if (parse_ext_opts(c, 2, FOR_GETEX, &flags, &exp_idx) != 0)
        return;
    /* Redis looks the key up before validating the time: a missing key
     * replies null even when the time is invalid. */
    o = db_lookup(c, key, 0);
    if (!o) {
        reply_null(c->r);
        return;
    }
    if (reply_if_not_string(c, o))
        return;
    if (exp_idx && expire_ms_or_reply(c, exp_idx, flags, &when) != 0)
        return;

    /* Reply before changing the key: o is only valid until the next write. */
    reply_string_obj(c, o);
    if (exp_idx) {
        if (when <= (int64_t)c->now_ms) {
            db_delete_notify(c, key); /* an EXAT/PXAT already past */
        } else {
            db_set_expire(c, key, when);
            notify_key(c, NOTIFY_GENERIC, "expire", key);
        }
        c->dirty++;
    } else if ((flags & OPT_PERSIST) && db_persist(c, key)) {
        notify_key(c, NOTIFY_GENERIC, "persist", key);
        c->dirty++;
    }
}

/* MGET key [key ...] */
static void mget_command(cmd_ctx_t *c)
{
    reply_array(c->r, c->argc - 1);
    for (int j = 1; j < c->argc; j++) {
        obj_t *o = db_lookup(c, c->argv[j], 0);
        /* MGET never fails on a wrong type: such a key reads as missing. */
        if (o && o->type == OBJ_STRING)
            reply_string_obj(c, o);
        else
            reply_null(c->r);
    }
}

/* Shared by MSET and MSETNX: all keys are set, or with nx none when any exists. */
static void mset_generic(cmd_ctx_t *c, int nx)
{
    /* The arity check lets an odd key/value count through. */
    if (c->argc % 2 == 0) {
        reply_wrong_arity(c->r, c->cmd->name);
        return;
    }
    if (nx) {
        for (int j = 1; j < c->argc; j += 2) {
            if (db_lookup(c, c->argv[j], LOOKUP_WRITE)) {
                reply_int(c->r, 0);
                return;
            }
        }
    }
    for (int j = 1; j < c->argc; j += 2) {
        db_set_string(c, c->argv[j], c->argv[j + 1].p, c->argv[j + 1].len, 0);
        notify_key(c, NOTIFY_STRING, "set", c->argv[j]);
    }
    c->dirty += (uint64_t)(c->argc - 1) / 2;
    if (nx)
        reply_int(c->r, 1);
    else
        reply_ok(c->r);
}

/* MSET key value [key value ...] */
static void mset_command(cmd_ctx_t *c)
{
    mset_generic(c, 0);
}

/* MSETNX key value [key value ...] */
static void msetnx_command(cmd_ctx_t *c)
{
    mset_generic(c, 1);
}

/* APPEND key value */
static void append_command(cmd_ctx_t *c)
{
    sv_t key = c->argv[1], val = c->argv[2];
    obj_t *o = db_lookup(c, key, LOOKUP_WRITE);

    if (o) {
        char tmp[24];
        if (reply_if_not_string(c, o))
            return;
        /* A new key needs no check: the argument itself passed the protocol's
         * bulk limit. */
        if (reply_if_too_long(c, obj_str(o, tmp).len, val.len))
            return;
    }
    size_t len = db_string_append(c, key, val.p, val.len);
    notify_key(c, NOTIFY_STRING, "append", key);
    c->dirty++;
    reply_int(c->r, (long long)len);
}

/* STRLEN key */
static void strlen_command(cmd_ctx_t *c)
{
    obj_t *o = db_lookup(c, c->argv[1], 0);
    char tmp[24];

    if (reply_if_not_string(c, o))
        return;
    reply_int(c->r, o ? (long long)obj_str(o, tmp).len : 0);
}

/* Shared by INCR, DECR, INCRBY and DECRBY. The TTL is kept: Redis treats the
 * arithmetic as an update of the value, not a new key. */
static void incr_generic(cmd_ctx_t *c, long long incr)
{
    sv_t key = c->argv[1];
    obj_t *o = db_lookup(c, key, LOOKUP_WRITE);
    long long v = 0;

    if (reply_if_not_string(c, o))
        return;
    if (o && obj_str_to_ll(o, &v) != 0) {
        reply_error(c->r, ERR_NOT_INT);
        return;
    }
    if ((incr < 0 && v < 0 && incr < LLONG_MIN - v) ||
        (incr > 0 && v > 0 && incr > LLONG_MAX - v)) {
        reply_error(c->r, ERR_OVERFLOW);
        return;
    }
    v += incr;
    db_set_int(c, key, v, 1);
    notify_key(c, NOTIFY_STRING, "incrby", key);
    c->dirty++;
    reply_int(c->r, v);
}

/* INCR key */
static void incr_command(cmd_ctx_t *c)
{
    incr_generic(c, 1);
}

/* DECR key */
static void decr_command(cmd_ctx_t *c)
{
    incr_generic(c, -1);
}

/* INCRBY key increment */
static void incrby_command(cmd_ctx_t *c)
{
    long long incr;

    if (arg_ll(c, 2, &incr, NULL) == 0)
        incr_generic(c, incr);
}

/* DECRBY key decrement */
static void decrby_command(cmd_ctx_t *c)
{
    long long decr;

    if (arg_ll(c, 2, &decr, NULL) != 0)
        return;
    /* -LLONG_MIN is not representable. */
    if (decr == LLONG_MIN) {
        reply_error(c->r, "ERR decrement would overflow");
        return;
    }
    incr_generic(c, -decr);
}

/* INCRBYFLOAT key increment */
static void incrbyfloat_command(cmd_ctx_t *c)
{
    sv_t key = c->argv[1], arg = c->argv[2];
    obj_t *o = db_lookup(c, key, LOOKUP_WRITE);
    long double v = 0, incr;
    char buf[LD_STR_MAX];
    int n;

    if (reply_if_not_string(c, o))
        return;
    if ((o && obj_str_to_ld(o, &v) != 0) || str_to_ld(arg.p, arg.len, &incr) != 0) {
        reply_error(c->r, ERR_NOT_FLOAT);
        return;
    }
    v += incr;
    if (isnan(v) || isinf(v)) {
        reply_error(c->r, "ERR increment would produce NaN or Infinity");
        return;
    }
    n = format_ld_human(buf, sizeof(buf), v);
    if (n < 0) { /* cannot happen for a finite long double; be safe anyway */
        reply_error(c->r, ERR_NOT_FLOAT);
        return;
    }
    /* Stored as the printed text, so GET shows exactly what was replied. */
    db_set_string(c, key, buf, (size_t)n, 1);
    notify_key(c, NOTIFY_STRING, "incrbyfloat", key);
    c->dirty++;
    reply_bulk(c->r, buf, (size_t)n);
}

/* GETRANGE key start end (SUBSTR is its pre-2.4 name) */
static void getrange_command(cmd_ctx_t *c)
{
    long long start, end, len;
    obj_t *o;
    char tmp[24];
    sv_t s;

    if (arg_ll(c, 2, &start, NULL) != 0 || arg_ll(c, 3, &end, NULL) != 0)
        return;
    o = db_lookup(c, c->argv[1], 0);
    if (!o) {
        reply_bulk(c->r, "", 0);
        return;
    }
    if (reply_if_not_string(c, o))
        return;
    s = obj_str(o, tmp);
    len = (long long)s.len;

    /* Both from the end and crossed: empty, before clamping could make them
     * meet at 0. */
    if (start < 0 && end < 0 && start > end) {
        reply_bulk(c->r, "", 0);
        return;
    }
    if (start < 0)
        start += len;
    if (end < 0)
        end += len;
    if (start < 0)
        start = 0;
    if (end < 0)
        end = 0;
    if (end >= len)
        end = len - 1;
    if (start > end || len == 0)
        reply_bulk(c->r, "", 0);
    else
        reply_bulk(c->r, s.p + start, (size_t)(end - start + 1));
}

/* SETRANGE key offset value */
static void setrange_command(cmd_ctx_t *c)
{
    sv_t key = c->argv[1], val = c->argv[3];
    long long off;
    obj_t *o;

    if (arg_ll(c, 2, &off, NULL) != 0)
        return;
    if (off < 0) {
        reply_error(c->r, "ERR offset is out of range");
        return;
    }
    o = db_lookup(c, key, LOOKUP_WRITE);
    if (reply_if_not_string(c, o))
        return;
    /* Writing nothing changes nothing, and creates no key. */
    if (val.len == 0) {
        char tmp[24];
        reply_int(c->r, o ? (long long)obj_str(o, tmp).len : 0);
        return;
    }
    if (reply_if_too_long(c, (size_t)off, val.len))
        return;
    size_t len = db_string_setrange(c, key, (size_t)off, val.p, val.len);
    notify_key(c, NOTIFY_STRING, "setrange", key);
    c->dirty++;
    reply_int(c->r, (long long)len);
}

const command_t cmds_string[] = {
    CMD_ROW("get", get_command, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @string @fast",
        "string", "1.0.0", "Get the value of a key",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("set", set_command, -3, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, "@write @string @slow",
        "string", "1.0.0", "Set the string value of a key",
        .key_specs = "RW ACCESS UPDATE VARIABLE_FLAGS index:1 range:0,1,0"),
    CMD_ROW("setnx", setnx_command, 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
        "@write @string @fast", "string", "1.0.0",
        "Set the value of a key, only if the key does not exist",
        .key_specs = "OW INSERT index:1 range:0,1,0"),
    CMD_ROW("setex", setex_command, 4, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, "@write @string @slow",
        "string", "2.0.0", "Set the value and expiration of a key",
        .key_specs = "OW UPDATE index:1 range:0,1,0"),
    CMD_ROW("psetex", psetex_command, 4, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, "@write @string @slow",
        "string", "2.6.0", "Set the value and expiration in milliseconds of a key",
        .key_specs = "OW UPDATE index:1 range:0,1,0"),
    CMD_ROW("getset", getset_command, 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
        "@write @string @fast", "string", "1.0.0",
        "Set the string value of a key and return its old value",
        .key_specs = "RW ACCESS UPDATE index:1 range:0,1,0"),
    CMD_ROW("getdel", getdel_command, 2, CMD_WRITE | CMD_FAST, 1, 1, 1, "@write @string @fast",
        "string", "6.2.0", "Get the value of a key and delete the key",
        .key_specs = "RW ACCESS DELETE index:1 range:0,1,0"),
    CMD_ROW("getex", getex_command, -2, CMD_WRITE | CMD_FAST, 1, 1, 1, "@write @string @fast",
        "string", "6.2.0", "Get the value of a key and optionally set its expiration",
        .key_specs = "RW ACCESS UPDATE index:1 range:0,1,0"),
    CMD_ROW("mget", mget_command, -2, CMD_READONLY | CMD_FAST, 1, -1, 1, "@read @string @fast",
        "string", "1.0.0", "Get the values of all the given keys",
        .key_specs = "RO ACCESS index:1 range:-1,1,0",
        .tips = "request_policy:multi_shard"),
    CMD_ROW("mset", mset_command, -3, CMD_WRITE | CMD_DENYOOM, 1, -1, 2, "@write @string @slow",
        "string", "1.0.1", "Set multiple keys to multiple values",
        .key_specs = "OW UPDATE index:1 range:-1,2,0",
        .tips = "request_policy:multi_shard response_policy:all_succeeded"),
    CMD_ROW("msetnx", msetnx_command, -3, CMD_WRITE | CMD_DENYOOM, 1, -1, 2, "@write @string @slow",
        "string", "1.0.1", "Set multiple keys to multiple values, only if none of the keys exist",
        .key_specs = "OW INSERT index:1 range:-1,2,0",
        .tips = "request_policy:multi_shard response_policy:agg_min"),
    CMD_ROW("append", append_command, 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
        "@write @string @fast", "string", "2.0.0", "Append a value to a key",
        .key_specs = "RW INSERT index:1 range:0,1,0"),
    CMD_ROW("strlen", strlen_command, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @string @fast",
        "string", "2.2.0", "Get the length of the value stored in a key",
        .key_specs = "RO index:1 range:0,1,0"),
    CMD_ROW("incr", incr_command, 2, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
        "@write @string @fast", "string", "1.0.0", "Increment the integer value of a key by one",
        .key_specs = "RW ACCESS UPDATE index:1 range:0,1,0"),
    CMD_ROW("decr", decr_command, 2, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
        "@write @string @fast", "string", "1.0.0", "Decrement the integer value of a key by one",
        .key_specs = "RW ACCESS UPDATE index:1 range:0,1,0"),
    CMD_ROW("incrby", incrby_command, 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
        "@write @string @fast", "string", "1.0.0",
        "Increment the integer value of a key by the given amount",
        .key_specs = "RW ACCESS UPDATE index:1 range:0,1,0"),
    CMD_ROW("decrby", decrby_command, 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
        "@write @string @fast", "string", "1.0.0",
        "Decrement the integer value of a key by the given number",
        .key_specs = "RW ACCESS UPDATE index:1 range:0,1,0"),
    CMD_ROW("incrbyfloat", incrbyfloat_command, 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
        "@write @string @fast", "string", "2.6.0",
        "Increment the float value of a key by the given amount",
        .key_specs = "RW ACCESS UPDATE index:1 range:0,1,0"),
    CMD_ROW("getrange", getrange_command, 4, CMD_READONLY, 1, 1, 1, "@read @string @slow", "string",
        "2.4.0", "Get a substring of the string stored at a key",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("substr", getrange_command, 4, CMD_READONLY, 1, 1, 1, "@read @string @slow", "string",
        "1.0.0", "Get a substring of the string stored at a key",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("setrange", setrange_command, 4, CMD_WRITE | CMD_DENYOOM, 1, 1, 1,
        "@write @string @slow", "string", "2.2.0",
        "Overwrite part of a string at key starting at the specified offset",
        .key_specs = "RW UPDATE index:1 range:0,1,0"),
    {0},
};
