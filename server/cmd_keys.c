/* cmd_keys — the generic keyspace commands: deletion and existence, TTLs,
 * TYPE, RENAME, and the whole-keyspace commands (KEYS, SCAN, RANDOMKEY, DBSIZE,
 * FLUSHDB, FLUSHALL).
 *
 * Key commands run with their keys' partitions held. KEYS, RANDOMKEY and the
 * flushes are CMD_ALLPARTS (their task holds every partition); SCAN holds the
 * one partition its cursor names (see scan_part); DBSIZE holds none and reads
 * the store's counters. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cmd_util.h"
#include "command.h"
#include "db.h"
#include "notify.h"
#include "object.h"
#include "resp.h"
#include "store.h"
#include "tracking.h"

/* ---- DEL UNLINK EXISTS TOUCH ------------------------------------------------ */

/* DEL key [key ...]  (and UNLINK: values are freed inline either way, as the
 * store has no lazy-free thread) */
static void del_command(cmd_ctx_t *c)
{
    long long n = 0;

    for (int j = 1; j < c->argc; j++)
        n += db_delete_notify(c, c->argv[j]);
    c->dirty += (uint64_t)n;
    reply_int(c->r, n);
}

/* Shared by EXISTS and TOUCH: how many of the keys exist, counting a key named
 * twice twice, as Redis does. */
static void count_existing_generic(cmd_ctx_t *c, int lookup_flags)
{
    long long n = 0;

    for (int j = 1; j < c->argc; j++)
        n += db_lookup(c, c->argv[j], lookup_flags) != NULL;
    reply_int(c->r, n);
}

/* EXISTS key [key ...] */
static void exists_command(cmd_ctx_t *c)
{
    count_existing_generic(c, LOOKUP_NOTOUCH);
}

/* TOUCH key [key ...] */
static void touch_command(cmd_ctx_t *c)
{
    count_existing_generic(c, 0); /* the point of TOUCH is the LRU/LFU update */
}

/* ---- EXPIRE family, TTL family, PERSIST, TYPE --------------------------------- */

enum { EXP_NX = 1, EXP_XX = 2, EXP_GT = 4, EXP_LT = 8 };

static int parse_expire_opts(cmd_ctx_t *c, int *flags)
{
    for (int j = 3; j < c->argc; j++) {
        if (arg_is(c, j, "nx"))
            *flags |= EXP_NX;
        else if (arg_is(c, j, "xx"))
            *flags |= EXP_XX;
        else if (arg_is(c, j, "gt"))
            *flags |= EXP_GT;
        else if (arg_is(c, j, "lt"))
            *flags |= EXP_LT;
        else {
            reply_errorf(c->r, "ERR Unsupported option %.*s", (int)c->argv[j].len,
                         c->argv[j].p);
            return -1;
        }
    }
    if ((*flags & EXP_NX) && (*flags & (EXP_XX | EXP_GT | EXP_LT))) {
        reply_error(c->r, "ERR NX and XX, GT or LT options at the same time are not compatible");
        return -1;
    }
    if ((*flags & EXP_GT) && (*flags & EXP_LT)) {
        reply_error(c->r, "ERR GT and LT options at the same time are not compatible");
        return -1;
    }
    return 0;
}

/* Whether NX/XX/GT/LT let a new expiry `when` replace `cur` (-1: no TTL, which
 * counts as an infinite TTL for GT and LT). */
static int expire_allowed(int flags, int64_t cur, int64_t when)
{
    if ((flags & EXP_NX) && cur != -1)
        return 0;
    if ((flags & EXP_XX) && cur == -1)
        return 0;
    if ((flags & EXP_GT) && (cur == -1 || when <= cur))
        return 0;
    if ((flags & EXP_LT) && cur != -1 && when >= cur)
        return 0;
    return 1;
}

/* Shared by EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT: basetime is now for the
 * relative forms, 0 for the absolute ones. Unlike SET's EX, zero and negative
 * times are accepted: they delete the key. */
static void expire_generic(cmd_ctx_t *c, long long basetime, int seconds)
{
    sv_t key = c->argv[1];
    int flags = 0;
    long long when;

    if (parse_expire_opts(c, &flags) != 0 || arg_ll(c, 2, &when, NULL) != 0)
        return;
    if (seconds) {
        if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000)
            goto invalid;
        when *= 1000;
    }
    if (when > LLONG_MAX - basetime)
        goto invalid;
    when += basetime;

    if (!db_lookup(c, key, LOOKUP_WRITE)) {
        reply_int(c->r, 0);
        return;
    }
    if (flags && !expire_allowed(flags, db_get_expire(c, key), when)) {
        reply_int(c->r, 0);
        return;
    }
    if (when <= (long long)c->now_ms) {
        db_delete_notify(c, key);
    } else {
        db_set_expire(c, key, when);
        notify_key(c, NOTIFY_GENERIC, "expire", key);
    }
    c->dirty++;
    reply_int(c->r, 1);
    return;
invalid:
    reply_errorf(c->r, ERR_INVALID_EXPIRE, c->cmd->name);
}

/* EXPIRE key seconds [NX | XX | GT | LT] */
static void expire_command(cmd_ctx_t *c)
{
    expire_generic(c, (long long)c->now_ms, 1);
}

/* PEXPIRE key milliseconds [NX | XX | GT | LT] */
static void pexpire_command(cmd_ctx_t *c)
{
    expire_generic(c, (long long)c->now_ms, 0);
}

/* EXPIREAT key unix-time-seconds [NX | XX | GT | LT] */
static void expireat_command(cmd_ctx_t *c)
{
    expire_generic(c, 0, 1);
}

/* PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT] */
static void pexpireat_command(cmd_ctx_t *c)
{
    expire_generic(c, 0, 0);
}

/* Shared by TTL, PTTL, EXPIRETIME and PEXPIRETIME: -2 for a missing key, -1
 * for no TTL; seconds are rounded to the nearest, as Redis does. */
static void ttl_generic(cmd_ctx_t *c, int in_ms, int absolute)
{
    sv_t key = c->argv[1];
    int64_t expire;
    long long t;

    /* The lookup first, so an expired key is reclaimed and reads as missing. */
    if (!db_lookup(c, key, LOOKUP_NOTOUCH)) {
        reply_int(c->r, -2);
        return;
    }
    expire = db_get_expire(c, key);
    if (expire < 0) {
        reply_int(c->r, expire);
        return;
    }
    t = absolute ? expire : expire - (long long)c->now_ms;
    if (t < 0)
        t = 0;
    reply_int(c->r, in_ms ? t : (t + 500) / 1000);
}

/* TTL key */
static void ttl_command(cmd_ctx_t *c)
{
    ttl_generic(c, 0, 0);
}

/* PTTL key */
static void pttl_command(cmd_ctx_t *c)
{
    ttl_generic(c, 1, 0);
}

/* EXPIRETIME key */
static void expiretime_command(cmd_ctx_t *c)
{
    ttl_generic(c, 0, 1);
}

/* PEXPIRETIME key */
static void pexpiretime_command(cmd_ctx_t *c)
{
    ttl_generic(c, 1, 1);
}

/* PERSIST key */
static void persist_command(cmd_ctx_t *c)
{
    int removed = 0;

    if (db_lookup(c, c->argv[1], LOOKUP_WRITE))
        removed = db_persist(c, c->argv[1]);
    if (removed)
        notify_key(c, NOTIFY_GENERIC, "persist", c->argv[1]);
    c->dirty += (uint64_t)removed;
    reply_int(c->r, removed);
}

/* TYPE key */
static void type_command(cmd_ctx_t *c)
{
    obj_t *o = db_lookup(c, c->argv[1], LOOKUP_NOTOUCH);
    reply_status(c->r, o ? obj_type_name(o->type) : "none");
}

/* ---- RENAME RENAMENX --------------------------------------------------------- */

/* Shared by RENAME and RENAMENX; the task holds both keys' partitions, which
 * may differ. */
static void rename_generic(cmd_ctx_t *c, int nx)
{
    sv_t src = c->argv[1], dst = c->argv[2];
    int rc;

    if (!db_lookup(c, src, LOOKUP_WRITE)) {
        reply_error(c->r, ERR_NO_KEY);
        return;
    }
    /* Renaming a key onto itself only checks that it exists. */
    if (src.len == dst.len && memcmp(src.p, dst.p, src.len) == 0) {
        if (nx)
            reply_int(c->r, 0);
        else
            reply_ok(c->r);
        return;
    }
    rc = db_rename(c, src, dst, nx);
    if (rc < 0) {
        reply_error(c->r, ERR_NO_KEY);
    } else if (rc > 0) {
        reply_int(c->r, 0);
    } else {
        notify_key(c, NOTIFY_GENERIC, "rename_from", src);
        notify_key(c, NOTIFY_GENERIC, "rename_to", dst);
        c->dirty++;
        if (nx)
            reply_int(c->r, 1);
        else
            reply_ok(c->r);
    }
}

/* RENAME key newkey */
static void rename_command(cmd_ctx_t *c)
{
    rename_generic(c, 0);
}

/* RENAMENX key newkey */
static void renamenx_command(cmd_ctx_t *c)
{
    rename_generic(c, 1);
}

/* ---- KEYS SCAN ------------------------------------------------------------- */

struct keys_state {
    cmd_ctx_t *c;
    sv_t pat;
    int all; /* pattern "*": skip matching */
    long n;
};

static void keys_cb(void *arg, sv_t key, const obj_t *val)
{
    struct keys_state *st = arg;
    (void)val;

    if (st->all || glob_match(st->pat.p, st->pat.len, key.p, key.len, 0)) {
        reply_bulk(st->c->r, key.p, key.len);
        st->n++;
    }
}

/* KEYS pattern */
static void keys_command(cmd_ctx_t *c)
{
    struct keys_state st = {c, c->argv[1], 0, 0};
    size_t mark = reply_defer(c->r);

    st.all = st.pat.len == 1 && st.pat.p[0] == '*';
    for (int p = 0; p < store_partitions(); p++) {
        uint64_t cursor = 0;
        do
            cursor = db_scan(p, c->db, cursor, c->now_ms, keys_cb, &st);
        while (cursor != 0);
    }
    reply_defer_set(c->r, mark, '*', st.n);
}

/* SCAN's cursor is (bucket cursor << pbits) | partition: the low bits pick the
 * partition (so a task can be routed before it runs), the rest is that
 * partition's own reverse-binary cursor, which survives resizes. */
static int scan_pbits(void)
{
    return __builtin_ctz((unsigned)store_partitions());
}

static int scan_part(int argc, const sv_t *argv)
{
    uint64_t cursor;
    (void)argc;

    if (parse_scan_cursor(argv[1], &cursor) != 0)
        return -1;
    return (int)(cursor & (uint64_t)(store_partitions() - 1));
}

struct scan_state {
    sv_t pat;
    int use_pat;
    const sv_t *type; /* TYPE filter, or NULL */
    long long visited; /* before filtering: COUNT bounds work, not results */
    long nkeys;
    buf_t keys; /* each kept key as a size_t length then its bytes */
};

static void scan_cb(void *arg, sv_t key, const obj_t *val)
{
    struct scan_state *st = arg;

    st->visited++;
    if (st->use_pat && !glob_match(st->pat.p, st->pat.len, key.p, key.len, 0))
        return;
    if (st->type && !sv_eq_ci(*st->type, obj_type_name(val->type)))
        return;
    buf_append(&st->keys, &key.len, sizeof(key.len));
    buf_append(&st->keys, key.p, key.len);
    st->nkeys++;
}

/* SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] */
static void scan_command(cmd_ctx_t *c)
{
    struct scan_state st = {{NULL, 0}, 0, NULL, 0, 0, {NULL, 0, 0}};
    long long count = 10, maxiter;
    uint64_t cursor, bucket, next;
    int nparts = store_partitions(), part;
    char num[24];

    /* An invalid cursor reaches here holding no partition (scan_part said -1):
     * reply before touching anything. */
    if (parse_scan_cursor(c->argv[1], &cursor) != 0) {
        reply_error(c->r, "ERR invalid cursor");
        return;
    }
    for (int j = 2; j < c->argc; j += 2) {
        if (c->argc - j < 2) {
            reply_error(c->r, ERR_SYNTAX);
            return;
        }
        if (arg_is(c, j, "count")) {
            if (arg_ll(c, j + 1, &count, NULL) != 0)
                return;
            if (count < 1) {
                reply_error(c->r, ERR_SYNTAX);
                return;
            }
        } else if (arg_is(c, j, "match")) {
            st.pat = c->argv[j + 1];
            st.use_pat = !(st.pat.len == 1 && st.pat.p[0] == '*');
        } else if (arg_is(c, j, "type")) {
            st.type = &c->argv[j + 1];
        } else {
            reply_error(c->r, ERR_SYNTAX);
            return;
        }
    }

    part = (int)(cursor & (uint64_t)(nparts - 1));
    bucket = cursor >> scan_pbits();
    /* As Redis: stop after count*10 calls even when most buckets are empty,
     * so one call's work stays bounded on a sparse table. */
    maxiter = count > LLONG_MAX / 10 ? LLONG_MAX : count * 10;
    buf_init(&st.keys);
    do
        bucket = db_scan(part, c->db, bucket, c->now_ms, scan_cb, &st);
    while (bucket != 0 && maxiter-- > 0 && st.visited < count);

    if (bucket != 0)
        next = (bucket << scan_pbits()) | (uint64_t)part;
    else {
        /* Skip partitions with no keys in this database (their counts are
         * atomics any thread may read), so an empty database ends at 0. */
        int p2 = part + 1;
        while (p2 < nparts && db_size(p2, c->db) == 0)
            p2++;
        next = p2 < nparts ? (uint64_t)p2 : 0;
    }

    reply_array(c->r, 2);
    reply_bulk(c->r, num, (size_t)snprintf(num, sizeof(num), "%llu", (unsigned long long)next));
    reply_array(c->r, st.nkeys);
    for (size_t off = 0; off < st.keys.len;) {
        size_t len;
        memcpy(&len, st.keys.data + off, sizeof(len));
        off += sizeof(len);
        reply_bulk(c->r, st.keys.data + off, len);
        off += len;
    }
    buf_free(&st.keys);
}

/* ---- RANDOMKEY DBSIZE FLUSHDB FLUSHALL ----------------------------------------- */

/* Per-thread xorshift64*: RANDOMKEY needs no quality beyond spreading picks, and
 * a thread-local state needs no lock. */
static uint64_t random_u64(const cmd_ctx_t *c)
{
    static _Thread_local uint64_t state;

    if (state == 0)
        state = (c->now_ms * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)(uintptr_t)&state) ^
                ((uint64_t)c->worker << 32) ^ 1;
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545F4914F6CDD1Dull;
}

/* RANDOMKEY */
static void randomkey_command(cmd_ctx_t *c)
{
    int nparts = store_partitions(), start = 0;
    uint64_t total = 0, pick;
    buf_t key;

    for (int p = 0; p < nparts; p++)
        total += db_size(p, c->db);
    if (total == 0) {
        reply_null(c->r);
        return;
    }
    /* Pick the partition in proportion to its size, so every key is about
     * equally likely however the keys spread over partitions. */
    pick = random_u64(c) % total;
    for (int p = 0; p < nparts; p++) {
        uint64_t n = db_size(p, c->db);
        if (pick < n) {
            start = p;
            break;
        }
        pick -= n;
    }
    buf_init(&key);
    /* A partition may hold only expired keys: then try the next ones. */
    for (int i = 0; i < nparts; i++) {
        if (db_random_key((start + i) % nparts, c->db, c->now_ms, &key)) {
            reply_bulk(c->r, key.data, key.len);
            buf_free(&key);
            return;
        }
    }
    buf_free(&key);
    reply_null(c->r);
}

/* DBSIZE */
static void dbsize_command(cmd_ctx_t *c)
{
    reply_int(c->r, (long long)store_db_keys(c->db));
}

/* Shared by FLUSHDB and FLUSHALL. ASYNC is accepted and done synchronously:
 * the store has no lazy-free thread. */
static void flush_generic(cmd_ctx_t *c, int all)
{
    if (c->argc > 2 || (c->argc == 2 && !arg_is(c, 1, "sync") && !arg_is(c, 1, "async"))) {
        reply_error(c->r, ERR_SYNTAX);
        return;
    }
    for (int p = 0; p < store_partitions(); p++) {
        if (all) {
            for (int db = 0; db < store_databases(); db++)
                c->dirty += db_size(p, db);
        } else {
            c->dirty += db_size(p, c->db);
        }
        db_flush(p, all ? -1 : c->db);
    }
    tracking_flush(); /* key names carry no database: any flush invalidates all */
    reply_ok(c->r);
}

/* FLUSHDB [ASYNC | SYNC] */
static void flushdb_command(cmd_ctx_t *c)
{
    flush_generic(c, 0);
}

/* FLUSHALL [ASYNC | SYNC] */
static void flushall_command(cmd_ctx_t *c)
{
    flush_generic(c, 1);
}

const command_t cmds_keys[] = {
    CMD_ROW("del", del_command, -2, CMD_WRITE, 1, -1, 1, "@keyspace @write @slow", "generic",
        "1.0.0", "Delete a key",
        .key_specs = "RM DELETE index:1 range:-1,1,0",
        .tips = "request_policy:multi_shard response_policy:agg_sum"),
    CMD_ROW("unlink", del_command, -2, CMD_WRITE | CMD_FAST, 1, -1, 1, "@keyspace @write @fast",
        "generic", "4.0.0",
        "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non "
        "blocking.",
        .key_specs = "RM DELETE index:1 range:-1,1,0",
        .tips = "request_policy:multi_shard response_policy:agg_sum"),
    CMD_ROW("exists", exists_command, -2, CMD_READONLY | CMD_FAST, 1, -1, 1,
        "@keyspace @read @fast", "generic", "1.0.0", "Determine if a key exists",
        .key_specs = "RO index:1 range:-1,1,0",
        .tips = "request_policy:multi_shard response_policy:agg_sum"),
    CMD_ROW("touch", touch_command, -2, CMD_READONLY | CMD_FAST, 1, -1, 1, "@keyspace @read @fast",
        "generic", "3.2.1",
        "Alters the last access time of a key(s). Returns the number of existing keys specified.",
        .key_specs = "RO index:1 range:-1,1,0",
        .tips = "request_policy:multi_shard response_policy:agg_sum"),
    CMD_ROW("expire", expire_command, -3, CMD_WRITE | CMD_FAST, 1, 1, 1, "@keyspace @write @fast",
        "generic", "1.0.0", "Set a key's time to live in seconds",
        .key_specs = "RW UPDATE index:1 range:0,1,0"),
    CMD_ROW("pexpire", pexpire_command, -3, CMD_WRITE | CMD_FAST, 1, 1, 1, "@keyspace @write @fast",
        "generic", "2.6.0", "Set a key's time to live in milliseconds",
        .key_specs = "RW UPDATE index:1 range:0,1,0"),
    CMD_ROW("expireat", expireat_command, -3, CMD_WRITE | CMD_FAST, 1, 1, 1,
        "@keyspace @write @fast", "generic", "1.2.0",
        "Set the expiration for a key as a UNIX timestamp",
        .key_specs = "RW UPDATE index:1 range:0,1,0"),
    CMD_ROW("pexpireat", pexpireat_command, -3, CMD_WRITE | CMD_FAST, 1, 1, 1,
        "@keyspace @write @fast", "generic", "2.6.0",
        "Set the expiration for a key as a UNIX timestamp specified in milliseconds",
        .key_specs = "RW UPDATE index:1 range:0,1,0"),
    CMD_ROW("expiretime", expiretime_command, 2, CMD_READONLY | CMD_FAST, 1, 1, 1,
        "@keyspace @read @fast", "generic", "7.0.0", "Get the expiration Unix timestamp for a key",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("pexpiretime", pexpiretime_command, 2, CMD_READONLY | CMD_FAST, 1, 1, 1,
        "@keyspace @read @fast", "generic", "7.0.0",
        "Get the expiration Unix timestamp for a key in milliseconds",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("ttl", ttl_command, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, "@keyspace @read @fast",
        "generic", "1.0.0", "Get the time to live for a key in seconds",
        .key_specs = "RO ACCESS index:1 range:0,1,0",
        .tips = "nondeterministic_output"),
    CMD_ROW("pttl", pttl_command, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, "@keyspace @read @fast",
        "generic", "2.6.0", "Get the time to live for a key in milliseconds",
        .key_specs = "RO ACCESS index:1 range:0,1,0",
        .tips = "nondeterministic_output"),
    CMD_ROW("persist", persist_command, 2, CMD_WRITE | CMD_FAST, 1, 1, 1, "@keyspace @write @fast",
        "generic", "2.2.0", "Remove the expiration from a key",
        .key_specs = "RW UPDATE index:1 range:0,1,0"),
    CMD_ROW("type", type_command, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, "@keyspace @read @fast",
        "generic", "1.0.0", "Determine the type stored at key",
        .key_specs = "RO index:1 range:0,1,0"),
    CMD_ROW("rename", rename_command, 3, CMD_WRITE, 1, 2, 1, "@keyspace @write @slow", "generic",
        "1.0.0", "Rename a key",
        .key_specs = "RW ACCESS DELETE index:1 range:0,1,0; OW UPDATE index:2 range:0,1,0"),
    CMD_ROW("renamenx", renamenx_command, 3, CMD_WRITE | CMD_FAST, 1, 2, 1,
        "@keyspace @write @fast", "generic", "1.0.0",
        "Rename a key, only if the new key does not exist",
        .key_specs = "RW ACCESS DELETE index:1 range:0,1,0; OW INSERT index:2 range:0,1,0"),
    CMD_ROW("keys", keys_command, 2, CMD_READONLY | CMD_ALLPARTS, 0, 0, 0,
        "@keyspace @read @slow @dangerous", "generic", "1.0.0",
        "Find all keys matching the given pattern",
        .tips = "request_policy:all_shards nondeterministic_output_order"),
    CMD_ROW("scan", scan_command, -2, CMD_READONLY, 0, 0, 0, "@keyspace @read @slow", "generic",
        "2.8.0", "Incrementally iterate the keys space", .part_fn = scan_part,
        .tips = "nondeterministic_output request_policy:special"),
    CMD_ROW("randomkey", randomkey_command, 1, CMD_READONLY | CMD_ALLPARTS, 0, 0, 0,
        "@keyspace @read @slow", "generic", "1.0.0", "Return a random key from the keyspace",
        .tips = "request_policy:all_shards nondeterministic_output"),
    CMD_ROW("dbsize", dbsize_command, 1, CMD_READONLY | CMD_FAST, 0, 0, 0,
        "@keyspace @read @fast", "server", "1.0.0",
        "Return the number of keys in the selected database",
        .tips = "request_policy:all_shards response_policy:agg_sum"),
    CMD_ROW("flushdb", flushdb_command, -1, CMD_WRITE | CMD_ALLPARTS, 0, 0, 0,
        "@keyspace @write @slow @dangerous", "server", "1.0.0",
        "Remove all keys from the current database",
        .tips = "request_policy:all_shards response_policy:all_succeeded"),
    CMD_ROW("flushall", flushall_command, -1, CMD_WRITE | CMD_ALLPARTS, 0, 0, 0,
        "@keyspace @write @slow @dangerous", "server", "1.0.0",
        "Remove all keys from all databases",
        .tips = "request_policy:all_shards response_policy:all_succeeded"),
    {0},
};
