/* cmd_stream_cg — consumer groups: XGROUP (CREATE SETID DESTROY
 * CREATECONSUMER DELCONSUMER HELP), XACK, XPENDING, XCLAIM, XAUTOCLAIM.
 * XREADGROUP is in cmd_stream_read.c. Handlers hold their key's partition.
 * Replies, errors and the keyspace events (xgroup-create, xgroup-setid,
 * xgroup-destroy, xgroup-createconsumer, xgroup-delconsumer; XACK raises
 * none) follow Redis 7.0. */
#include <stdlib.h>
#include <string.h>

#include "cmd_stream.h"
#include "cmd_util.h"
#include "db.h"
#include "notify.h"
#include "resp.h"

#define ERR_NEED_KEY                                                                           \
    "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want "  \
    "to use the MKSTREAM option to create an empty stream automatically."

static void nogroup_key(cmd_ctx_t *c, sv_t key, sv_t group)
{
    reply_errorf(c->r, "NOGROUP No such key '%.*s' or consumer group '%.*s'", (int)key.len, key.p,
                 (int)group.len, group.p);
}

static void subcommand_syntax(cmd_ctx_t *c)
{
    sv_t sub = c->argv[1];
    reply_errorf(c->r,
                 "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try XGROUP HELP.",
                 (int)(sub.len > 128 ? 128 : sub.len), sub.p);
}

/* The group ID argument: "$" is the stream's last ID; SETID (specials)
 * also takes "-" and "+", as Redis 7.0's. */
static int group_id_arg(cmd_ctx_t *c, int i, const stream_t *s, int specials, sid_t *id)
{
    sv_t a = c->argv[i];
    if (a.len == 1 && a.p[0] == '$') {
        *id = s ? s->last_id : (sid_t){0, 0};
        return 0;
    }
    return stream_parse_id(c, i, 0, specials, id, 0);
}

static int entries_read_arg(cmd_ctx_t *c, int i, long long *v)
{
    if (arg_ll(c, i, v, NULL) != 0)
        return -1;
    if (*v < 0 && *v != SCG_INVALID_READ) {
        reply_error(c->r, "ERR value for ENTRIESREAD must be positive or -1");
        return -1;
    }
    return 0;
}

static const char *const xgroup_help[] = {
    "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
    "HELP",
    "    Prints this help.",
    NULL,
};

/* XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD n] | SETID key group id|$
 * [ENTRIESREAD n] | DESTROY key group | CREATECONSUMER key group consumer |
 * DELCONSUMER key group consumer | HELP */
static void xgroup_command(cmd_ctx_t *c)
{
    int create = c->argc >= 5 && arg_is(c, 1, "create");
    int setid = c->argc >= 5 && arg_is(c, 1, "setid");
    int destroy = c->argc == 4 && arg_is(c, 1, "destroy");
    int mkcons = c->argc == 5 && arg_is(c, 1, "createconsumer");
    int delcons = c->argc == 5 && arg_is(c, 1, "delconsumer");
    if (c->argc == 2 && arg_is(c, 1, "help")) {
        reply_help(c->r, xgroup_help);
        return;
    }
    if (!create && !setid && !destroy && !mkcons && !delcons) {
        reply_subcommand_error(c, "xgroup");
        return;
    }
    sv_t key = c->argv[2], gname = c->argv[3];
    int mkstream = 0;
    long long entries_read = SCG_INVALID_READ;
    if (create) {
        for (int i = 5; i < c->argc; i++) {
            if (arg_is(c, i, "mkstream")) {
                mkstream = 1;
            } else if (arg_is(c, i, "entriesread") && i + 1 < c->argc) {
                if (entries_read_arg(c, i + 1, &entries_read) != 0)
                    return;
                i++;
            } else {
                subcommand_syntax(c);
                return;
            }
        }
    } else if (setid) {
        if (c->argc == 7 && arg_is(c, 5, "entriesread")) {
            if (entries_read_arg(c, 6, &entries_read) != 0)
                return;
        } else if (c->argc != 5) {
            subcommand_syntax(c);
            return;
        }
    }
    stream_t *s;
    obj_t *o;
    if (stream_lookup(c, key, LOOKUP_WRITE, &s, &o) != 0)
        return;
    if (!s && !(create && mkstream)) {
        reply_error(c->r, ERR_NEED_KEY);
        return;
    }
    scgroup_t *g = s ? stream_group_find(s, gname) : NULL;
    if ((setid || mkcons || delcons) && !g) {
        reply_errorf(c->r, "NOGROUP No such consumer group '%.*s' for key name '%.*s'",
                     (int)gname.len, gname.p, (int)key.len, key.p);
        return;
    }
    sid_t id;
    if ((create || setid) && group_id_arg(c, 4, s, setid, &id) != 0)
        return;
    if (!s) {
        obj_t v = obj_make(OBJ_STREAM, stream_new());
        o = db_add(c, key, &v);
        s = o->v.ptr;
    }
    size_t before = obj_mem(o);
    if (create) {
        if (!stream_group_create(s, gname, id, entries_read)) {
            reply_error(c->r, "BUSYGROUP Consumer Group name already exists");
            db_modified(c, key, o, before);
            return;
        }
        reply_ok(c->r);
        notify_key(c, NOTIFY_STREAM, "xgroup-create", key);
    } else if (setid) {
        g->last_id = id;
        g->entries_read = entries_read;
        reply_ok(c->r);
        notify_key(c, NOTIFY_STREAM, "xgroup-setid", key);
    } else if (destroy) {
        int done = stream_group_destroy(s, gname);
        reply_int(c->r, done);
        if (done)
            notify_key(c, NOTIFY_STREAM, "xgroup-destroy", key);
    } else if (mkcons) {
        int made = stream_consumer_create(s, g, c->argv[4], c->now_ms) != NULL;
        reply_int(c->r, made);
        if (made)
            notify_key(c, NOTIFY_STREAM, "xgroup-createconsumer", key);
    } else {
        int existed = stream_consumer_find(g, c->argv[4]) != NULL;
        reply_int(c->r, (long long)stream_consumer_delete(s, g, c->argv[4]));
        if (existed)
            notify_key(c, NOTIFY_STREAM, "xgroup-delconsumer", key);
    }
    db_modified(c, key, o, before);
    c->dirty++;
}

/* XGROUP's key is argv[2], but for HELP. */
static int xgroup_keys(int argc, const sv_t *argv, int *first, int *last, int *step)
{
    if (argc >= 3 && !sv_eq_ci(argv[1], "help"))
        *first = *last = 2;
    *step = 1;
    return 0;
}

static uint32_t xgroup_flags(int argc, const sv_t *argv)
{
    if (argc < 2 || sv_eq_ci(argv[1], "help"))
        return 0;
    return CMD_WRITE | (sv_eq_ci(argv[1], "create") || sv_eq_ci(argv[1], "createconsumer")
                            ? CMD_DENYOOM
                            : 0);
}

/* The consumer named name in g, created (with its event) when missing; its
 * seen-time now. */
static sconsumer_t *consumer_get(cmd_ctx_t *c, stream_t *s, scgroup_t *g, sv_t key, sv_t name)
{
    sconsumer_t *cons = stream_consumer_find(g, name);
    if (!cons) {
        cons = stream_consumer_create(s, g, name, c->now_ms);
        notify_key(c, NOTIFY_STREAM, "xgroup-createconsumer", key);
    }
    cons->seen_time = c->now_ms;
    return cons;
}

/* XACK key group id [id ...] */
static void xack_command(cmd_ctx_t *c)
{
    stream_t *s;
    obj_t *o;
    sid_t id;
    if (stream_lookup(c, c->argv[1], LOOKUP_WRITE, &s, &o) != 0)
        return;
    for (int i = 3; i < c->argc; i++)
        if (stream_parse_id(c, i, 0, 0, &id, 0) != 0)
            return;
    scgroup_t *g = s ? stream_group_find(s, c->argv[2]) : NULL;
    if (!g) {
        reply_int(c->r, 0);
        return;
    }
    size_t before = obj_mem(o);
    long long n = 0;
    for (int i = 3; i < c->argc; i++) {
        stream_parse_id(c, i, 0, 0, &id, 1);
        snack_t *nk = stream_pel_find(g, id);
        if (nk) {
            stream_pel_remove(s, g, nk);
            n++;
        }
    }
    if (n) {
        db_modified(c, c->argv[1], o, before);
        c->dirty += (uint64_t)n;
    }
    reply_int(c->r, n);
}

/* An interval bound: "(" excludes it; "-" / "+" allowed unless excluded. */
static int interval_id(cmd_ctx_t *c, int i, uint64_t missing_seq, int end, sid_t *id)
{
    sv_t a = c->argv[i];
    if (a.len > 1 && a.p[0] == '(') {
        cmd_ctx_t tmp = *c;
        sv_t one = {a.p + 1, a.len - 1};
        tmp.argv = &one;
        if (stream_parse_id(&tmp, 0, missing_seq, 0, id, 0) != 0)
            return -1;
        if ((end ? sid_decr(id) : sid_incr(id)) != 0) {
            reply_error(c->r, end ? "ERR invalid end ID for the interval"
                                  : "ERR invalid start ID for the interval");
            return -1;
        }
        return 0;
    }
    return stream_parse_id(c, i, missing_seq, 1, id, 0);
}

/* XPENDING key group [[IDLE min-idle-time] start end count [consumer]] */
static void xpending_command(cmd_ctx_t *c)
{
    long long minidle = 0, count = 0;
    sid_t start = {0, 0}, end = {UINT64_MAX, UINT64_MAX};
    int cons_at = 0;
    if (c->argc != 3 && (c->argc < 6 || c->argc > 9)) {
        reply_error(c->r, ERR_SYNTAX);
        return;
    }
    if (c->argc >= 6) {
        int si = 3;
        if (arg_is(c, 3, "idle")) {
            if (arg_ll(c, 4, &minidle, NULL) != 0)
                return;
            if (c->argc < 8) {
                reply_error(c->r, ERR_SYNTAX);
                return;
            }
            si += 2;
        }
        if (si + 2 >= c->argc) {
            reply_error(c->r, ERR_SYNTAX);
            return;
        }
        if (arg_ll(c, si + 2, &count, NULL) != 0)
            return;
        if (count < 0)
            count = 0;
        if (interval_id(c, si, 0, 0, &start) != 0 || interval_id(c, si + 1, UINT64_MAX, 1, &end))
            return;
        if (si + 3 < c->argc)
            cons_at = si + 3;
        if (si + 4 < c->argc) {
            reply_error(c->r, ERR_SYNTAX);
            return;
        }
    }
    stream_t *s;
    if (stream_lookup(c, c->argv[1], 0, &s, NULL) != 0)
        return;
    scgroup_t *g = s ? stream_group_find(s, c->argv[2]) : NULL;
    if (!g) {
        nogroup_key(c, c->argv[1], c->argv[2]);
        return;
    }
    if (c->argc == 3) { /* the summary */
        reply_array(c->r, 4);
        reply_int(c->r, (long long)g->npel);
        if (!g->npel) {
            reply_null(c->r);
            reply_null(c->r);
            reply_null_array(c->r);
            return;
        }
        stream_reply_id(c->r, g->pel[0]->id);
        stream_reply_id(c->r, g->pel[g->npel - 1]->id);
        long n = 0;
        for (size_t i = 0; i < g->nconsumers; i++)
            n += g->consumers[i]->npel > 0;
        reply_array(c->r, n);
        for (size_t i = 0; i < g->nconsumers; i++) {
            sconsumer_t *k = g->consumers[i];
            if (!k->npel)
                continue;
            reply_array(c->r, 2);
            reply_bulk(c->r, k->name, k->nlen);
            reply_bulk_ll(c->r, (long long)k->npel);
        }
        return;
    }
    snack_t **pel = g->pel;
    size_t npel = g->npel;
    if (cons_at) {
        sconsumer_t *k = stream_consumer_find(g, c->argv[cons_at]);
        if (!k) {
            reply_array(c->r, 0);
            return;
        }
        pel = k->pel;
        npel = k->npel;
    }
    size_t mark = reply_defer(c->r);
    long n = 0;
    for (size_t i = stream_pel_lower(pel, npel, start); i < npel && n < count; i++) {
        snack_t *nk = pel[i];
        if (sid_cmp(nk->id, end) > 0)
            break;
        long long idle = c->now_ms > nk->delivery_time ? (long long)(c->now_ms - nk->delivery_time) : 0;
        if (minidle && idle < minidle)
            continue;
        reply_array(c->r, 4);
        stream_reply_id(c->r, nk->id);
        reply_bulk(c->r, nk->consumer->name, nk->consumer->nlen);
        reply_int(c->r, idle);
        reply_int(c->r, (long long)nk->delivery_count);
        n++;
    }
    reply_defer_set(c->r, mark, '*', n);
}

/* 1 when s holds the live entry id. */
static int entry_exists(const stream_t *s, sid_t id)
{
    stream_iter_t *it = xmalloc(sizeof *it);
    sid_t got;
    uint64_t nf;
    stream_iter_start(it, s, id, id, 0);
    int r = stream_iter_next(it, &got, &nf);
    free(it);
    return r;
}

/* XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-ms]
 *   [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID id] */
static void xclaim_command(cmd_ctx_t *c)
{
    stream_t *s;
    obj_t *o;
    sv_t key = c->argv[1];
    if (stream_lookup(c, key, LOOKUP_WRITE, &s, &o) != 0)
        return;
    scgroup_t *g = s ? stream_group_find(s, c->argv[2]) : NULL;
    if (!g) {
        nogroup_key(c, key, c->argv[2]);
        return;
    }
    long long minidle, deliverytime = -1, retrycount = -1, v;
    if (arg_ll(c, 4, &minidle, "ERR Invalid min-idle-time argument for XCLAIM") != 0)
        return;
    if (minidle < 0)
        minidle = 0;
    sid_t id, lastid = {0, 0};
    int j = 5;
    while (j < c->argc && stream_parse_id(c, j, 0, 0, &id, 1) == 0)
        j++;
    int last_id_arg = j - 1, force = 0, justid = 0;
    long long now = (long long)c->now_ms;
    for (; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        if (arg_is(c, j, "force")) {
            force = 1;
        } else if (arg_is(c, j, "justid")) {
            justid = 1;
        } else if (arg_is(c, j, "idle") && more) {
            if (arg_ll(c, ++j, &v, "ERR Invalid IDLE option argument for XCLAIM") != 0)
                return;
            deliverytime = now - v;
        } else if (arg_is(c, j, "time") && more) {
            if (arg_ll(c, ++j, &deliverytime, "ERR Invalid TIME option argument for XCLAIM") != 0)
                return;
        } else if (arg_is(c, j, "retrycount") && more) {
            if (arg_ll(c, ++j, &retrycount, "ERR Invalid RETRYCOUNT option argument for XCLAIM") !=
                0)
                return;
        } else if (arg_is(c, j, "lastid") && more) {
            if (stream_parse_id(c, ++j, 0, 0, &lastid, 0) != 0)
                return;
        } else {
            sv_t a = c->argv[j];
            reply_errorf(c->r, "ERR Unrecognized XCLAIM option '%.*s'", (int)(a.len > 128 ? 128 : a.len),
                         a.p);
            return;
        }
    }
    size_t before = obj_mem(o);
    if (sid_cmp(lastid, g->last_id) > 0)
        g->last_id = lastid;
    if (deliverytime < 0 || deliverytime > now)
        deliverytime = now;
    sconsumer_t *cons = NULL;
    size_t mark = reply_defer(c->r);
    long n = 0;
    for (int i = 5; i <= last_id_arg; i++) {
        stream_parse_id(c, i, 0, 0, &id, 1);
        snack_t *nk = stream_pel_find(g, id);
        if (!entry_exists(s, id)) {
            if (nk) /* gone from the stream: it leaves the PEL */
                stream_pel_remove(s, g, nk);
            continue;
        }
        int fresh = 0;
        if (!nk && !force)
            continue;
        if (!nk)
            fresh = 1;
        else if (minidle && now - (long long)nk->delivery_time < minidle)
            continue;
        if (!cons)
            cons = consumer_get(c, s, g, key, c->argv[3]);
        if (fresh)
            nk = stream_pel_add(s, g, cons, id, (uint64_t)now);
        else
            stream_pel_move(s, nk, cons);
        nk->delivery_time = (uint64_t)deliverytime;
        if (retrycount >= 0)
            nk->delivery_count = (uint64_t)retrycount;
        else if (!justid)
            nk->delivery_count++;
        if (justid)
            stream_reply_id(c->r, id);
        else
            stream_reply_entry_at(c->r, s, id, 0);
        n++;
    }
    reply_defer_set(c->r, mark, '*', n);
    db_modified(c, key, o, before);
    c->dirty++;
}

/* XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID] */
static void xautoclaim_command(cmd_ctx_t *c)
{
    long long minidle, count = 100;
    int justid = 0;
    if (arg_ll(c, 4, &minidle, "ERR Invalid min-idle-time argument for XAUTOCLAIM") != 0)
        return;
    if (minidle < 0)
        minidle = 0;
    sid_t start;
    if (interval_id(c, 5, 0, 0, &start) != 0)
        return;
    for (int j = 6; j < c->argc; j++) {
        if (arg_is(c, j, "count") && j + 1 < c->argc) {
            if (arg_ll(c, ++j, &count, NULL) != 0)
                return;
            /* Redis bounds COUNT so that its scan (10 PEL entries per
             * claim) cannot overflow. */
            if (count < 1 || count > INT64_MAX / 10) {
                reply_error(c->r, "ERR COUNT must be > 0");
                return;
            }
        } else if (arg_is(c, j, "justid")) {
            justid = 1;
        } else {
            reply_error(c->r, ERR_SYNTAX);
            return;
        }
    }
    /* The arguments first, then the key and group (Redis 7.0's order). */
    stream_t *s;
    obj_t *o;
    sv_t key = c->argv[1];
    if (stream_lookup(c, key, LOOKUP_WRITE, &s, &o) != 0)
        return;
    scgroup_t *g = s ? stream_group_find(s, c->argv[2]) : NULL;
    if (!g) {
        nogroup_key(c, key, c->argv[2]);
        return;
    }
    size_t before = obj_mem(o);
    long long now = (long long)c->now_ms, attempts = count * 10;
    sconsumer_t *cons = NULL; /* created at its first claim, as XCLAIM's */
    buf_t deleted;
    buf_init(&deleted);
    long ndeleted = 0, n = 0;
    reply_array(c->r, 3);
    size_t at = stream_pel_lower(g->pel, g->npel, start);
    /* the cursor goes first: claim into a scratch reply, then copy */
    buf_t claimed;
    buf_init(&claimed);
    reply_t cr = {.out = &claimed, .proto = c->r->proto};
    while (attempts-- > 0 && count > 0 && at < g->npel) {
        snack_t *nk = g->pel[at];
        sid_t id = nk->id;
        if (!entry_exists(s, id)) {
            stream_pel_remove(s, g, nk);
            buf_append(&deleted, (const char *)&id, sizeof id);
            ndeleted++;
            count--;
            continue;
        }
        at++;
        if (minidle && now - (long long)nk->delivery_time < minidle)
            continue;
        if (!cons)
            cons = consumer_get(c, s, g, key, c->argv[3]);
        stream_pel_move(s, nk, cons);
        nk->delivery_time = (uint64_t)now;
        if (!justid)
            nk->delivery_count++;
        if (justid)
            stream_reply_id(&cr, id);
        else
            stream_reply_entry_at(&cr, s, id, 0);
        n++;
        count--;
    }
    stream_reply_id(c->r, at < g->npel ? g->pel[at]->id : (sid_t){0, 0});
    reply_array(c->r, n);
    buf_append(c->r->out, claimed.data, claimed.len);
    reply_array(c->r, ndeleted);
    for (long i = 0; i < ndeleted; i++) {
        sid_t id;
        memcpy(&id, deleted.data + (size_t)i * sizeof id, sizeof id);
        stream_reply_id(c->r, id);
    }
    buf_free(&claimed);
    buf_free(&deleted);
    db_modified(c, key, o, before);
    c->dirty++;
}

static const char *const xgroup_subcommands[] = {
    "xgroup|create", "xgroup|setid", "xgroup|destroy", "xgroup|createconsumer",
    "xgroup|delconsumer", "xgroup|help", NULL};

const command_t cmds_stream_cg[] = {
    CMD_ROW("xgroup", xgroup_command, -2, 0, 0, 0, 0, "@slow", "stream", "5.0.0",
        "A container for consumer groups commands", .keys_fn = xgroup_keys,
        .flags_fn = xgroup_flags, .subcommands = xgroup_subcommands,
        .subcommand_rows = subcmds_xgroup),
    CMD_ROW("xack", xack_command, -4, CMD_WRITE | CMD_FAST, 1, 1, 1, "@write @stream @fast",
        "stream", "5.0.0", "Marks a pending message as correctly processed",
        .key_specs = "RW UPDATE index:1 range:0,1,0"),
    CMD_ROW("xpending", xpending_command, -3, CMD_READONLY, 1, 1, 1, "@read @stream @slow",
        "stream", "5.0.0", "Return information and entries from a stream consumer group PEL",
        .key_specs = "RO ACCESS index:1 range:0,1,0",
        .tips = "nondeterministic_output"),
    CMD_ROW("xclaim", xclaim_command, -6, CMD_WRITE | CMD_FAST, 1, 1, 1, "@write @stream @fast",
        "stream", "5.0.0", "Changes (or acquires) ownership of a message in a consumer group",
        .key_specs = "RW UPDATE index:1 range:0,1,0",
        .tips = "nondeterministic_output"),
    CMD_ROW("xautoclaim", xautoclaim_command, -6, CMD_WRITE | CMD_FAST, 1, 1, 1,
        "@write @stream @fast", "stream", "6.2.0",
        "Changes (or acquires) ownership of messages in a consumer group",
        .key_specs = "RW DELETE index:1 range:0,1,0",
        .tips = "nondeterministic_output"),
    {0},
};
