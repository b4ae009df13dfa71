/* cmd_stream_read — XREAD and XREADGROUP, blocking included.
 *
 * Both run with the partitions of every key after STREAMS held (xread_keys),
 * so a multi-key read sees one state of all its streams under every policy.
 * A call that finds nothing to reply and may block registers a wait on each
 * key with blocking_wait_ready (blocking.h): the `$` IDs are resolved to
 * each stream's last ID at that moment and stored in the wait's copy of the
 * arguments, so a write serves the wait only with entries added after it.
 * A write of a key with waits asks xread_ready whether the wait can be
 * served; the serving holder then runs the call's single-key form
 * (XREAD ... STREAMS key id) for the blocked client. XREADGROUP waits on a
 * key that is deleted or no longer a stream end with Redis 7.0's
 * "UNBLOCKED the stream key no longer exists"; a destroyed group gives the
 * NOGROUP error the handler replies. */
#include <stdlib.h>
#include <string.h>

#include "blocking.h"
#include "cmd_stream.h"
#include "cmd_util.h"
#include "db.h"
#include "notify.h"
#include "resp.h"

int xread_keys(int argc, const sv_t *argv, int *first, int *last, int *step)
{
    int i = sv_eq_ci(argv[0], "xreadgroup") ? 4 : 1;
    for (; i < argc; i++)
        if (sv_eq_ci(argv[i], "streams"))
            break;
    int n = argc - i - 1;
    if (i >= argc || n <= 0 || n % 2)
        return -1;
    *first = i + 1;
    *last = i + n / 2;
    *step = 1;
    return 0;
}

typedef struct read_args {
    long long count; /* 0: no limit */
    int block;
    long long timeout_ms;
    int streams_at; /* index of the first key */
    int n;          /* keys */
    sv_t group, consumer;
    int has_group, noack;
} read_args_t;

static int parse_read(cmd_ctx_t *c, int xgroup, read_args_t *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < c->argc; i++) {
        int more = c->argc - i - 1;
        if (arg_is(c, i, "block") && more) {
            if (arg_timeout_ms(c, i + 1, &a->timeout_ms) != 0)
                return -1;
            a->block = 1;
            i++;
        } else if (arg_is(c, i, "count") && more) {
            if (arg_ll(c, i + 1, &a->count, NULL) != 0)
                return -1;
            if (a->count < 0)
                a->count = 0;
            i++;
        } else if (arg_is(c, i, "streams") && more) {
            a->streams_at = i + 1;
            int k = c->argc - a->streams_at;
            if (k % 2) {
                /* Redis 7.0 names XREAD and '$' for XREADGROUP too. */
                reply_error(c->r, "ERR Unbalanced XREAD list of streams: for each stream key "
                                  "an ID or '$' must be specified.");
                return -1;
            }
            a->n = k / 2;
            break;
        } else if (arg_is(c, i, "group") && more >= 2) {
            if (!xgroup) {
                reply_error(c->r, "ERR The GROUP option is only supported by XREADGROUP. "
                                  "You called XREAD instead.");
                return -1;
            }
            a->group = c->argv[i + 1];
            a->consumer = c->argv[i + 2];
            a->has_group = 1;
            i += 2;
        } else if (arg_is(c, i, "noack")) {
            if (!xgroup) {
                reply_error(c->r, "ERR The NOACK option is only supported by XREADGROUP. "
                                  "You called XREAD instead.");
                return -1;
            }
            a->noack = 1;
        } else {
            reply_error(c->r, ERR_SYNTAX);
            return -1;
        }
    }
    if (!a->streams_at) {
        reply_error(c->r, ERR_SYNTAX);
        return -1;
    }
    if (xgroup && !a->has_group) {
        reply_error(c->r, "ERR Missing GROUP option for XREADGROUP");
        return -1;
    }
    return 0;
}

/* Whether s has a live entry after id (the first one in *first). */
static int has_after(const stream_t *s, sid_t id)
{
    if (sid_cmp(s->last_id, id) <= 0 || !s->length)
        return 0;
    if (sid_incr(&id) != 0)
        return 0;
    stream_iter_t *it = xmalloc(sizeof *it);
    sid_t got;
    uint64_t nf;
    stream_iter_start(it, s, id, (sid_t){UINT64_MAX, UINT64_MAX}, 0);
    int r = stream_iter_next(it, &got, &nf);
    free(it);
    return r;
}

/* Deliver the entries of s after the group's last ID to consumer (">"). */
static long deliver_new(cmd_ctx_t *c, stream_t *s, scgroup_t *g, sconsumer_t *cons,
                        const read_args_t *a)
{
    sid_t start = g->last_id;
    long n = 0;
    if (sid_incr(&start) != 0)
        return 0;
    stream_iter_t *it = xmalloc(sizeof *it);
    sid_t id;
    uint64_t nf;
    stream_iter_start(it, s, start, (sid_t){UINT64_MAX, UINT64_MAX}, 0);
    size_t mark = reply_defer(c->r);
    while ((!a->count || n < a->count) && stream_iter_next(it, &id, &nf)) {
        if (sid_cmp(id, g->last_id) > 0) {
            if (g->entries_read != SCG_INVALID_READ &&
                !stream_range_has_tombstones(s, id, (sid_t){UINT64_MAX, UINT64_MAX}))
                g->entries_read++;
            else if (s->entries_added)
                g->entries_read = stream_estimate_distance(s, id);
            g->last_id = id;
        }
        if (!a->noack) {
            snack_t *nk = stream_pel_find(g, id);
            if (nk) { /* pending already (after XGROUP SETID): it changes hands */
                stream_pel_move(s, nk, cons);
                nk->delivery_time = c->now_ms;
                nk->delivery_count = 1;
            } else {
                stream_pel_add(s, g, cons, id, c->now_ms);
            }
        }
        stream_reply_entry(c->r, it, id, nf);
        n++;
    }
    reply_defer_set(c->r, mark, '*', n);
    free(it);
    return n;
}

/* The consumer's pending entries after id (history): deleted ones as [id, nil]. */
static void deliver_history(cmd_ctx_t *c, stream_t *s, sconsumer_t *cons, sid_t id,
                            const read_args_t *a)
{
    /* Entries after id, as XREAD's: an ID already seen is not repeated. */
    size_t i = sid_incr(&id) == 0 ? stream_pel_lower(cons->pel, cons->npel, id) : cons->npel;
    size_t n = cons->npel - i;
    if (a->count && (size_t)a->count < n)
        n = (size_t)a->count;
    reply_array(c->r, (long)n);
    for (size_t k = 0; k < n; k++) {
        snack_t *nk = cons->pel[i + k];
        if (stream_reply_entry_at(c->r, s, nk->id, 1)) {
            nk->delivery_time = c->now_ms;
            nk->delivery_count++;
        }
    }
}

/* XREAD's entries of s after id. */
static void deliver_after(cmd_ctx_t *c, const stream_t *s, sid_t id, const read_args_t *a)
{
    stream_iter_t *it = xmalloc(sizeof *it);
    sid_t got;
    uint64_t nf;
    long n = 0;
    sid_incr(&id);
    stream_iter_start(it, s, id, (sid_t){UINT64_MAX, UINT64_MAX}, 0);
    size_t mark = reply_defer(c->r);
    while ((!a->count || n < a->count) && stream_iter_next(it, &got, &nf)) {
        stream_reply_entry(c->r, it, got, nf);
        n++;
    }
    reply_defer_set(c->r, mark, '*', n);
    free(it);
}

static int xreadgroup_ready(cmd_ctx_t *look, int argc, const sv_t *argv, int keyi, sv_t key)
{
    (void)keyi;
    obj_t *o = db_lookup(look, key, LOOKUP_WRITE | LOOKUP_NOTOUCH);
    if (!o || o->type != OBJ_STREAM)
        return BLOCKING_KEY_GONE;
    /* GROUP g c may follow COUNT, BLOCK or NOACK: its place, as parse_read
     * found it (the options before STREAMS take 0 or 1 argument, GROUP 2). */
    int gi = 1;
    while (gi + 1 < argc && !sv_eq_ci(argv[gi], "group"))
        gi += sv_eq_ci(argv[gi], "noack") ? 1 : 2;
    if (gi + 1 >= argc)
        return BLOCKING_READY; /* cannot be: the handler replies */
    stream_t *s = o->v.ptr;
    scgroup_t *g = stream_group_find(s, argv[gi + 1]);
    if (!g)
        return BLOCKING_READY; /* the handler replies NOGROUP */
    return has_after(s, g->last_id) ? BLOCKING_READY : BLOCKING_NOT_READY;
}

static int xread_ready(cmd_ctx_t *look, int argc, const sv_t *argv, int keyi, sv_t key)
{
    obj_t *o = db_lookup(look, key, LOOKUP_WRITE | LOOKUP_NOTOUCH);
    if (!o || o->type != OBJ_STREAM)
        return BLOCKING_NOT_READY; /* XREAD waits for the key to be a stream again */
    int first = 0;
    if (xread_keys(argc, argv, &first, &(int){0}, &(int){0}) != 0)
        return BLOCKING_NOT_READY;
    int idi = first + (argc - first) / 2 + (keyi - first);
    sid_t id;
    cmd_ctx_t tmp = *look;
    tmp.argv = (sv_t *)argv;
    if (stream_parse_id(&tmp, idi, 0, 0, &id, 1) != 0)
        return BLOCKING_NOT_READY;
    return has_after(o->v.ptr, id) ? BLOCKING_READY : BLOCKING_NOT_READY;
}

#define ERR_DOLLAR_GROUP                                                                       \
    "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history "  \
    "of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ "  \
    "ID would just return an empty result set."
#define ERR_GT_XREAD                                                                           \
    "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> "      \
    "<consumer> option."

static void read_generic(cmd_ctx_t *c, int xgroup)
{
    read_args_t a;
    if (parse_read(c, xgroup, &a) != 0)
        return;
    int n = a.n;
    sid_t *ids = xmalloc((size_t)n * sizeof *ids);
    char *gt = xcalloc((size_t)n, 1); /* ">" given */
    char *dollar = xcalloc((size_t)n, 1);
    int lflags = xgroup ? LOOKUP_WRITE : 0;

    for (int i = 0; i < n; i++) {
        sv_t key = c->argv[a.streams_at + i];
        int ai = a.streams_at + n + i;
        stream_t *s;
        if (stream_lookup(c, key, lflags, &s, NULL) != 0)
            goto out;
        if (xgroup && (!s || !stream_group_find(s, a.group))) {
            reply_errorf(c->r,
                         "NOGROUP No such key '%.*s' or consumer group '%.*s' in XREADGROUP "
                         "with GROUP option",
                         (int)key.len, key.p, (int)a.group.len, a.group.p);
            goto out;
        }
        sv_t arg = c->argv[ai];
        if (arg.len == 1 && arg.p[0] == '$') {
            if (xgroup) {
                reply_error(c->r, ERR_DOLLAR_GROUP);
                goto out;
            }
            ids[i] = s ? s->last_id : (sid_t){0, 0};
            dollar[i] = 1;
        } else if (arg.len == 1 && arg.p[0] == '>') {
            if (!xgroup) {
                reply_error(c->r, ERR_GT_XREAD);
                goto out;
            }
            gt[i] = 1;
        } else if (stream_parse_id(c, ai, 0, 0, &ids[i], 0) != 0) {
            goto out;
        }
    }

    size_t mark = 0;
    long served = 0;
    for (int i = 0; i < n; i++) {
        sv_t key = c->argv[a.streams_at + i];
        stream_t *s;
        obj_t *o;
        stream_lookup(c, key, lflags, &s, &o);
        if (!s)
            continue;
        scgroup_t *g = NULL;
        sconsumer_t *cons = NULL;
        size_t before = obj_mem(o);
        if (xgroup)
            g = stream_group_find(s, a.group);
        int serve = xgroup ? (!gt[i] || has_after(s, g->last_id)) : has_after(s, ids[i]);
        if (serve && xgroup) {
            /* The consumer exists from its first served read on (Redis
             * 7.0: a read that blocks or finds nothing creates none). */
            cons = stream_consumer_find(g, a.consumer);
            if (!cons) {
                cons = stream_consumer_create(s, g, a.consumer, c->now_ms);
                notify_key(c, NOTIFY_STREAM, "xgroup-createconsumer", key);
                c->dirty++;
            }
            cons->seen_time = c->now_ms;
        }
        if (serve) {
            if (!served++)
                mark = reply_defer(c->r);
            if (c->r->proto == 2)
                reply_array(c->r, 2);
            reply_bulk(c->r, key.p, key.len);
            if (!xgroup)
                deliver_after(c, s, ids[i], &a);
            else if (gt[i])
                c->dirty += (uint64_t)deliver_new(c, s, g, cons, &a);
            else
                deliver_history(c, s, cons, ids[i], &a);
        }
        if (xgroup)
            db_modified(c, key, o, before);
    }
    if (served) {
        reply_defer_set(c->r, mark, c->r->proto == 3 ? '%' : '*', served);
        goto out;
    }
    if (a.block) {
        /* The wait's copy of the arguments has each $ resolved: entries
         * added from now on are the ones it is waiting for. */
        sv_t *saved = c->argv;
        sv_t *argv = xmalloc((size_t)c->argc * sizeof *argv);
        char(*buf)[48] = xmalloc((size_t)n * sizeof *buf);
        memcpy(argv, saved, (size_t)c->argc * sizeof *argv);
        for (int i = 0; i < n; i++)
            if (dollar[i])
                argv[a.streams_at + n + i] =
                    (sv_t){buf[i], (size_t)sid_format(ids[i], buf[i])};
        c->argv = argv;
        int blocked = blocking_wait_ready(c, a.streams_at, a.streams_at + n - 1,
                                          (uint64_t)a.timeout_ms, OBJ_STREAM,
                                          xgroup ? xreadgroup_ready : xread_ready);
        c->argv = saved;
        free(buf);
        free(argv);
        if (blocked)
            goto out;
    }
    reply_null_array(c->r);
out:
    free(ids);
    free(gt);
    free(dollar);
}

/* XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...] */
static void xread_command(cmd_ctx_t *c) { read_generic(c, 0); }

/* XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK]
 *   STREAMS key [key ...] id [id ...] */
static void xreadgroup_command(cmd_ctx_t *c) { read_generic(c, 1); }

const command_t cmds_stream_read[] = {
    CMD_ROW("xread", xread_command, -4, CMD_READONLY | CMD_BLOCKING | CMD_MOVABLEKEYS, 0, 0, 0,
        "@read @stream @slow @blocking", "stream", "5.0.0",
        "Return never seen elements in multiple streams", .keys_fn = xread_keys,
        .key_specs = "RO ACCESS keyword:STREAMS:1 range:-1,1,2"),
    CMD_ROW("xreadgroup", xreadgroup_command, -7, CMD_WRITE | CMD_BLOCKING | CMD_MOVABLEKEYS, 0,
        0, 0, "@write @stream @slow @blocking", "stream", "5.0.0",
        "Return new entries from a stream using a consumer group", .keys_fn = xread_keys,
        .key_specs = "RO ACCESS keyword:STREAMS:4 range:-1,1,2"),
    {0},
};
