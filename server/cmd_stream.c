/* cmd_stream — the stream commands that add, read by range, delete and trim
 * entries: XADD XLEN XRANGE XREVRANGE XDEL XTRIM XSETID, and the helpers the
 * other stream files share (cmd_stream.h). XREAD/XREADGROUP are in
 * cmd_stream_read.c, the consumer groups in cmd_stream_cg.c, XINFO in
 * cmd_stream_info.c.
 *
 * Every handler runs with its key's partition held. Errors, replies and
 * keyspace events follow Redis 7.0: "xadd", "xtrim" (after XADD's trim too),
 * "xdel", "xsetid", all of class t. An emptied stream stays a key, as Redis's. */
#include <stdlib.h>
#include <string.h>

#include "cmd_stream.h"
#include "cmd_util.h"
#include "config.h"
#include "db.h"
#include "notify.h"
#include "resp.h"

/* ---- shared helpers ---------------------------------------------------------- */

static int parse_u64(const char *p, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 20)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        uint64_t d = (uint64_t)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* "ms-seq" / "ms" / "ms-*" (seq_star set when allowed and given). */
static int parse_id_str(sv_t a, uint64_t missing_seq, int specials, sid_t *id, int *seq_star)
{
    if (specials && a.len == 1 && (a.p[0] == '-' || a.p[0] == '+')) {
        *id = a.p[0] == '-' ? (sid_t){0, 0} : (sid_t){UINT64_MAX, UINT64_MAX};
        return 0;
    }
    const char *dash = memchr(a.p, '-', a.len);
    if (!dash) {
        id->seq = missing_seq;
        return parse_u64(a.p, a.len, &id->ms);
    }
    size_t ml = (size_t)(dash - a.p);
    if (parse_u64(a.p, ml, &id->ms) != 0)
        return -1;
    sv_t rest = {dash + 1, a.len - ml - 1};
    if (seq_star && rest.len == 1 && rest.p[0] == '*') {
        *seq_star = 1;
        id->seq = 0;
        return 0;
    }
    return parse_u64(rest.p, rest.len, &id->seq);
}

int stream_parse_id(cmd_ctx_t *c, int i, uint64_t missing_seq, int specials, sid_t *id,
                    int quiet)
{
    if (parse_id_str(c->argv[i], missing_seq, specials, id, NULL) == 0)
        return 0;
    if (!quiet)
        reply_error(c->r, ERR_INVALID_ID);
    return -1;
}

int stream_lookup(cmd_ctx_t *c, sv_t key, int flags, stream_t **s, obj_t **o)
{
    obj_t *v;
    if (t_lookup(c, key, OBJ_STREAM, flags, &v) != 0)
        return -1;
    *s = v ? v->v.ptr : NULL;
    if (o)
        *o = v;
    return 0;
}

void stream_reply_id(reply_t *r, sid_t id)
{
    char buf[48];
    int n = sid_format(id, buf);
    reply_bulk(r, buf, (size_t)n);
}

void stream_reply_entry(reply_t *r, stream_iter_t *it, sid_t id, uint64_t nf)
{
    sv_t f, v;
    reply_array(r, 2);
    stream_reply_id(r, id);
    reply_array(r, (long)(nf * 2));
    while (stream_iter_field(it, &f, &v)) {
        reply_bulk(r, f.p, f.len);
        reply_bulk(r, v.p, v.len);
    }
}

int stream_reply_entry_at(reply_t *r, const stream_t *s, sid_t id, int null_if_missing)
{
    stream_iter_t *it = xmalloc(sizeof *it);
    sid_t got;
    uint64_t nf;
    stream_iter_start(it, s, id, id, 0);
    int found = stream_iter_next(it, &got, &nf);
    if (found)
        stream_reply_entry(r, it, got, nf);
    else if (null_if_missing) {
        reply_array(r, 2);
        stream_reply_id(r, id);
        reply_null_array(r);
    }
    free(it);
    return found;
}

void stream_node_limits(size_t *entries, size_t *bytes)
{
    *entries = (size_t)config_get_u64(CFG_STREAM_NODE_MAX_ENTRIES);
    *bytes = (size_t)config_get_u64(CFG_STREAM_NODE_MAX_BYTES);
}

/* ---- trimming arguments (XADD, XTRIM) ------------------------------------------ */

typedef struct add_args {
    int nomkstream;
    int trim; /* a MAXLEN or MINID was given */
    strim_t t;
    int limit_given;
    sid_t id;
    int id_auto, seq_auto; /* "*", "ms-*" */
    int first_field;       /* XADD: the first field's index */
} add_args_t;

/* Redis 7.0's XADD/XTRIM argument loop from index 2; xadd: NOMKSTREAM and
 * the ID are allowed (the ID ends the options). -1 after the error reply. */
static int parse_add_trim(cmd_ctx_t *c, int xadd, add_args_t *a)
{
    int i = 2, limit_given = 0;
    long long limit = 0;
    memset(a, 0, sizeof *a);
    for (; i < c->argc; i++) {
        int more = c->argc - i - 1;
        if (xadd && arg_is(c, i, "nomkstream")) {
            a->nomkstream = 1;
        } else if ((arg_is(c, i, "maxlen") || arg_is(c, i, "minid")) && more >= 1) {
            int minid = arg_is(c, i, "minid");
            if (a->trim && a->t.by_minid != minid) {
                reply_error(c->r, "ERR syntax error, MAXLEN and MINID options at the same "
                                  "time are not compatible");
                return -1;
            }
            a->trim = 1;
            a->t.by_minid = minid;
            a->t.approx = 0;
            if (more >= 2 && c->argv[i + 1].len == 1 &&
                (c->argv[i + 1].p[0] == '~' || c->argv[i + 1].p[0] == '=')) {
                a->t.approx = c->argv[i + 1].p[0] == '~';
                i++;
            }
            i++;
            if (minid) {
                if (stream_parse_id(c, i, 0, 0, &a->t.minid, 0) != 0)
                    return -1;
            } else {
                long long n;
                if (arg_ll(c, i, &n, NULL) != 0)
                    return -1;
                if (n < 0) {
                    reply_error(c->r, "ERR The MAXLEN argument must be >= 0.");
                    return -1;
                }
                a->t.maxlen = (uint64_t)n;
            }
        } else if (arg_is(c, i, "limit") && more >= 1) {
            if (arg_ll(c, i + 1, &limit, NULL) != 0)
                return -1;
            if (limit < 0) {
                reply_error(c->r, "ERR The LIMIT argument must be >= 0.");
                return -1;
            }
            limit_given = 1;
            i++;
        } else if (xadd) {
            sv_t idarg = c->argv[i];
            if (idarg.len == 1 && idarg.p[0] == '*') {
                a->id_auto = 1;
            } else if (parse_id_str(idarg, 0, 0, &a->id, &a->seq_auto) != 0) {
                reply_error(c->r, ERR_INVALID_ID);
                return -1;
            }
            break;
        } else {
            reply_error(c->r, ERR_SYNTAX);
            return -1;
        }
    }
    if (limit_given && !a->t.approx) {
        reply_error(c->r, "ERR syntax error, LIMIT cannot be used without the special ~ option");
        return -1;
    }
    if (a->t.approx) {
        size_t ne, nb;
        stream_node_limits(&ne, &nb);
        /* Redis's default work bound for "~": 100 nodes' worth of entries. */
        a->t.limit = limit_given ? (uint64_t)limit : 100 * (uint64_t)(ne ? ne : 100);
    }
    if (xadd) {
        a->first_field = i + 1;
        if (i >= c->argc || (c->argc - a->first_field) < 2 ||
            (c->argc - a->first_field) % 2) {
            reply_wrong_arity(c->r, "xadd");
            return -1;
        }
        if (!a->id_auto && !a->seq_auto && a->id.ms == 0 && a->id.seq == 0) {
            reply_error(c->r, "ERR The ID specified in XADD must be greater than 0-0");
            return -1;
        }
    } else if (!a->trim) {
        reply_error(c->r, ERR_SYNTAX);
        return -1;
    }
    return 0;
}

/* The ID XADD gives the new entry: 0, or -1 when it is not above the top. */
static int next_id(const stream_t *s, const add_args_t *a, uint64_t now_ms, sid_t *id)
{
    sid_t last = s->last_id;
    if (a->id_auto) {
        if (now_ms > last.ms) {
            *id = (sid_t){now_ms, 0};
            return 0;
        }
        *id = last;
        return sid_incr(id);
    }
    if (a->seq_auto) {
        if (a->id.ms < last.ms)
            return -1;
        if (a->id.ms > last.ms) {
            *id = (sid_t){a->id.ms, 0};
            return 0;
        }
        if (last.seq == UINT64_MAX)
            return -1;
        *id = (sid_t){last.ms, last.seq + 1};
        return 0;
    }
    if (sid_cmp(a->id, last) <= 0)
        return -1;
    *id = a->id;
    return 0;
}

/* XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [...] */
static void xadd_command(cmd_ctx_t *c)
{
    add_args_t a;
    stream_t *s;
    obj_t *o;
    sv_t key = c->argv[1];

    if (parse_add_trim(c, 1, &a) != 0)
        return;
    size_t bytes = 0;
    for (int i = a.first_field; i < c->argc; i++)
        bytes += c->argv[i].len + 10;
    if (bytes >= (1u << 30)) {
        reply_error(c->r, "ERR Elements are too large to be stored");
        return;
    }
    if (stream_lookup(c, key, LOOKUP_WRITE, &s, &o) != 0)
        return;
    if (!s && a.nomkstream) {
        reply_null(c->r);
        return;
    }
    if (s && s->last_id.ms == UINT64_MAX && s->last_id.seq == UINT64_MAX) {
        reply_error(c->r,
                    "ERR The stream has exhausted the last possible ID, unable to add more items");
        return;
    }
    sid_t id;
    stream_t fresh = {0};
    if (next_id(s ? s : &fresh, &a, c->now_ms, &id) != 0) {
        reply_error(c->r, "ERR The ID specified in XADD is equal or smaller than the target "
                          "stream top item");
        return;
    }
    if (!s) {
        obj_t v = obj_make(OBJ_STREAM, stream_new());
        o = db_add(c, key, &v);
        s = o->v.ptr;
    }
    size_t before = obj_mem(o);
    size_t ne, nb;
    stream_node_limits(&ne, &nb);
    stream_append(s, id, c->argv + a.first_field, (size_t)(c->argc - a.first_field) / 2, ne, nb);
    stream_reply_id(c->r, id);
    notify_key(c, NOTIFY_STREAM, "xadd", key);
    if (a.trim && stream_trim(s, &a.t) > 0)
        notify_key(c, NOTIFY_STREAM, "xtrim", key);
    db_modified(c, key, o, before);
    c->dirty++;
}

/* XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count] */
static void xtrim_command(cmd_ctx_t *c)
{
    add_args_t a;
    stream_t *s;
    obj_t *o;
    sv_t key = c->argv[1];

    if (parse_add_trim(c, 0, &a) != 0)
        return;
    if (stream_lookup(c, key, LOOKUP_WRITE, &s, &o) != 0)
        return;
    if (!s) {
        reply_int(c->r, 0);
        return;
    }
    size_t before = obj_mem(o);
    uint64_t n = stream_trim(s, &a.t);
    if (n) {
        notify_key(c, NOTIFY_STREAM, "xtrim", key);
        db_modified(c, key, o, before);
        c->dirty += n;
    }
    reply_int(c->r, (long long)n);
}

/* XLEN key */
static void xlen_command(cmd_ctx_t *c)
{
    stream_t *s;
    if (stream_lookup(c, c->argv[1], 0, &s, NULL) != 0)
        return;
    reply_int(c->r, s ? (long long)stream_len(s) : 0);
}

/* XRANGE key start end [COUNT count] and XREVRANGE key end start [COUNT count] */
static void range_generic(cmd_ctx_t *c, int rev)
{
    sid_t start = {0, 0}, end = {0, 0};
    int si = rev ? 3 : 2, ei = rev ? 2 : 3;
    long long count = -1;

    for (int k = 0; k < 2; k++) {
        int i = k ? ei : si;
        sid_t *id = k ? &end : &start;
        sv_t a = c->argv[i];
        if (a.len > 1 && a.p[0] == '(') {
            sv_t in = {a.p + 1, a.len - 1};
            if (parse_id_str(in, k ? UINT64_MAX : 0, 0, id, NULL) != 0) {
                reply_error(c->r, ERR_INVALID_ID);
                return;
            }
            if ((k ? sid_decr(id) : sid_incr(id)) != 0) {
                reply_error(c->r, k ? "ERR invalid end ID for the interval"
                                    : "ERR invalid start ID for the interval");
                return;
            }
        } else if (stream_parse_id(c, i, k ? UINT64_MAX : 0, 1, id, 0) != 0) {
            return;
        }
    }
    for (int j = 4; j < c->argc; j++) {
        if (arg_is(c, j, "count") && j + 1 < c->argc) {
            if (arg_ll(c, j + 1, &count, NULL) != 0)
                return;
            if (count < 0)
                count = 0;
            j++;
        } else {
            reply_error(c->r, ERR_SYNTAX);
            return;
        }
    }
    stream_t *s;
    if (stream_lookup(c, c->argv[1], 0, &s, NULL) != 0)
        return;
    if (count == 0) { /* COUNT 0 or negative: a null array, as Redis 7.0 */
        reply_null_array(c->r);
        return;
    }
    if (!s || sid_cmp(start, end) > 0) {
        reply_array(c->r, 0);
        return;
    }
    stream_iter_t *it = xmalloc(sizeof *it);
    stream_iter_start(it, s, start, end, rev);
    size_t mark = reply_defer(c->r);
    long n = 0;
    sid_t id;
    uint64_t nf;
    while ((count < 0 || n < count) && stream_iter_next(it, &id, &nf)) {
        stream_reply_entry(c->r, it, id, nf);
        n++;
    }
    reply_defer_set(c->r, mark, '*', n);
    free(it);
}

static void xrange_command(cmd_ctx_t *c) { range_generic(c, 0); }
static void xrevrange_command(cmd_ctx_t *c) { range_generic(c, 1); }

/* XDEL key id [id ...] */
static void xdel_command(cmd_ctx_t *c)
{
    stream_t *s;
    obj_t *o;
    sv_t key = c->argv[1];
    sid_t id;

    /* Every ID is checked before anything is deleted, as Redis. */
    for (int i = 2; i < c->argc; i++)
        if (stream_parse_id(c, i, 0, 0, &id, 0) != 0)
            return;
    if (stream_lookup(c, key, LOOKUP_WRITE, &s, &o) != 0)
        return;
    if (!s) {
        reply_int(c->r, 0);
        return;
    }
    size_t before = obj_mem(o);
    long long n = 0;
    for (int i = 2; i < c->argc; i++) {
        stream_parse_id(c, i, 0, 0, &id, 1);
        if (stream_delete(s, id)) {
            n++;
            if (sid_cmp(id, s->max_deleted_id) > 0)
                s->max_deleted_id = id;
        }
    }
    if (n) {
        notify_key(c, NOTIFY_STREAM, "xdel", key);
        db_modified(c, key, o, before);
        c->dirty += (uint64_t)n;
    }
    reply_int(c->r, n);
}

/* XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id] */
static void xsetid_command(cmd_ctx_t *c)
{
    sid_t id, maxdel = {0, 0};
    long long added = -1;
    int has_maxdel = 0;
    sv_t key = c->argv[1];

    if (stream_parse_id(c, 2, 0, 0, &id, 0) != 0)
        return;
    for (int i = 3; i < c->argc; i++) {
        if (arg_is(c, i, "entriesadded") && i + 1 < c->argc) {
            if (arg_ll(c, i + 1, &added, NULL) != 0)
                return;
            if (added < 0) {
                reply_error(c->r, "ERR entries_added must be positive");
                return;
            }
            i++;
        } else if (arg_is(c, i, "maxdeletedid") && i + 1 < c->argc) {
            if (stream_parse_id(c, i + 1, 0, 0, &maxdel, 0) != 0)
                return;
            if (sid_cmp(id, maxdel) < 0) {
                reply_error(c->r, "ERR The ID specified in XSETID is smaller than the provided "
                                  "max_deleted_entry_id");
                return;
            }
            has_maxdel = 1;
            i++;
        } else {
            reply_error(c->r, ERR_SYNTAX);
            return;
        }
    }
    stream_t *s;
    obj_t *o;
    if (stream_lookup(c, key, LOOKUP_WRITE, &s, &o) != 0)
        return;
    if (!s) {
        reply_error(c->r, ERR_NO_KEY);
        return;
    }
    if (added >= 0 && (uint64_t)added < s->length) {
        reply_error(c->r, "ERR The entries_added specified in XSETID is smaller than the target "
                          "stream length");
        return;
    }
    sid_t top;
    if (s->length && stream_last_live_id(s, &top) == 0 && sid_cmp(id, top) < 0) {
        reply_error(c->r,
                    "ERR The ID specified in XSETID is smaller than the target stream top item");
        return;
    }
    size_t before = obj_mem(o);
    s->last_id = id;
    if (added >= 0)
        s->entries_added = (uint64_t)added;
    if (has_maxdel)
        s->max_deleted_id = maxdel;
    notify_key(c, NOTIFY_STREAM, "xsetid", key);
    db_modified(c, key, o, before);
    c->dirty++;
    reply_ok(c->r);
}

const command_t cmds_stream[] = {
    CMD_ROW("xadd", xadd_command, -5, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
        "@write @stream @fast", "stream", "5.0.0", "Appends a new entry to a stream",
        .key_specs = "RW UPDATE index:1 range:0,1,0",
        .tips = "nondeterministic_output"),
    CMD_ROW("xlen", xlen_command, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @stream @fast",
        "stream", "5.0.0", "Return the number of entries in a stream",
        .key_specs = "RO index:1 range:0,1,0"),
    CMD_ROW("xrange", xrange_command, -4, CMD_READONLY, 1, 1, 1, "@read @stream @slow",
        "stream", "5.0.0", "Return a range of elements in a stream",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("xrevrange", xrevrange_command, -4, CMD_READONLY, 1, 1, 1, "@read @stream @slow",
        "stream", "5.0.0", "Return a range of elements in a stream, in reverse order",
        .key_specs = "RO ACCESS index:1 range:0,1,0"),
    CMD_ROW("xdel", xdel_command, -3, CMD_WRITE | CMD_FAST, 1, 1, 1, "@write @stream @fast",
        "stream", "5.0.0", "Removes the specified entries from the stream",
        .key_specs = "RW DELETE index:1 range:0,1,0"),
    CMD_ROW("xtrim", xtrim_command, -4, CMD_WRITE, 1, 1, 1, "@write @stream @slow", "stream",
        "5.0.0", "Trims the stream to a certain size",
        .key_specs = "RW DELETE index:1 range:0,1,0",
        .tips = "nondeterministic_output"),
    CMD_ROW("xsetid", xsetid_command, -3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1,
        "@write @stream @fast", "stream", "5.0.0", "An internal command for replicating stream values",
        .key_specs = "RW UPDATE index:1 range:0,1,0"),
    {0},
};
