/* cmd_stream_info — XINFO STREAM [FULL [COUNT n]], XINFO GROUPS, XINFO
 * CONSUMERS, XINFO HELP, with Redis 7.0's field names and order. The key
 * subcommands run with argv[2]'s partition held.
 *
 * radix-tree-keys and radix-tree-nodes describe Redis's rax of listpacks;
 * percore reports its node count and the node count plus one (Redis's
 * figures for streams of up to one node), documented in the README. */
#include <stdlib.h>

#include "cmd_stream.h"
#include "cmd_util.h"
#include "db.h"
#include "resp.h"

static void field(reply_t *r, const char *name) { reply_bulk_cstr(r, name); }

static void reply_lag(reply_t *r, const stream_t *s, const scgroup_t *g)
{
    if (g->entries_read == SCG_INVALID_READ)
        reply_null(r);
    else
        reply_int(r, g->entries_read);
    field(r, "lag");
    int64_t lag;
    if (stream_group_lag(s, g, &lag) != 0)
        reply_null(r);
    else
        reply_int(r, lag);
}

static void reply_edge(reply_t *r, const stream_t *s, int last)
{
    sid_t id;
    if ((last ? stream_last_live_id(s, &id) : stream_first_id(s, &id)) != 0)
        reply_null(r);
    else
        stream_reply_entry_at(r, s, id, 0);
}

static void stream_header(reply_t *r, const stream_t *s)
{
    sid_t first = {0, 0};
    stream_first_id(s, &first);
    field(r, "length");
    reply_int(r, (long long)s->length);
    field(r, "radix-tree-keys");
    reply_int(r, (long long)stream_nodes(s));
    field(r, "radix-tree-nodes");
    reply_int(r, (long long)stream_nodes(s) + 1);
    field(r, "last-generated-id");
    stream_reply_id(r, s->last_id);
    field(r, "max-deleted-entry-id");
    stream_reply_id(r, s->max_deleted_id);
    field(r, "entries-added");
    reply_int(r, (long long)s->entries_added);
    field(r, "recorded-first-entry-id");
    stream_reply_id(r, first);
}

static long limit_of(size_t n, long long count)
{
    return count > 0 && (size_t)count < n ? (long)count : (long)n;
}

static void stream_full(cmd_ctx_t *c, const stream_t *s, long long count)
{
    reply_t *r = c->r;
    reply_map(r, 9);
    stream_header(r, s);
    field(r, "entries");
    stream_iter_t *it = xmalloc(sizeof *it);
    stream_iter_start(it, s, (sid_t){0, 0}, (sid_t){UINT64_MAX, UINT64_MAX}, 0);
    size_t mark = reply_defer(r);
    long n = 0;
    sid_t id;
    uint64_t nf;
    while ((count <= 0 || n < count) && stream_iter_next(it, &id, &nf)) {
        stream_reply_entry(r, it, id, nf);
        n++;
    }
    reply_defer_set(r, mark, '*', n);
    free(it);
    field(r, "groups");
    reply_array(r, (long)s->ngroups);
    for (size_t i = 0; i < s->ngroups; i++) {
        const scgroup_t *g = s->groups[i];
        reply_map(r, 7);
        field(r, "name");
        reply_bulk(r, g->name, g->nlen);
        field(r, "last-delivered-id");
        stream_reply_id(r, g->last_id);
        field(r, "entries-read");
        reply_lag(r, s, g);
        field(r, "pel-count");
        reply_int(r, (long long)g->npel);
        field(r, "pending");
        long np = limit_of(g->npel, count);
        reply_array(r, np);
        for (long k = 0; k < np; k++) {
            const snack_t *nk = g->pel[k];
            reply_array(r, 4);
            stream_reply_id(r, nk->id);
            reply_bulk(r, nk->consumer->name, nk->consumer->nlen);
            reply_int(r, (long long)nk->delivery_time);
            reply_int(r, (long long)nk->delivery_count);
        }
        field(r, "consumers");
        reply_array(r, (long)g->nconsumers);
        for (size_t j = 0; j < g->nconsumers; j++) {
            const sconsumer_t *k = g->consumers[j];
            reply_map(r, 4);
            field(r, "name");
            reply_bulk(r, k->name, k->nlen);
            field(r, "seen-time");
            reply_int(r, (long long)k->seen_time);
            field(r, "pel-count");
            reply_int(r, (long long)k->npel);
            field(r, "pending");
            long kp = limit_of(k->npel, count);
            reply_array(r, kp);
            for (long q = 0; q < kp; q++) {
                const snack_t *nk = k->pel[q];
                reply_array(r, 3);
                stream_reply_id(r, nk->id);
                reply_int(r, (long long)nk->delivery_time);
                reply_int(r, (long long)nk->delivery_count);
            }
        }
    }
}

/* XINFO STREAM key [FULL [COUNT count]] */
static void xinfo_stream(cmd_ctx_t *c)
{
    int full = 0;
    long long count = 10;
    if (c->argc > 3) {
        if (!arg_is(c, 3, "full") || (c->argc != 4 && c->argc != 6)) {
            reply_error(c->r, ERR_SYNTAX);
            return;
        }
        full = 1;
        if (c->argc == 6) {
            if (!arg_is(c, 4, "count")) {
                reply_error(c->r, ERR_SYNTAX);
                return;
            }
            if (arg_ll(c, 5, &count, NULL) != 0)
                return;
            if (count < 0)
                count = 0;
        }
    }
    stream_t *s;
    if (stream_lookup(c, c->argv[2], LOOKUP_NOTOUCH, &s, NULL) != 0)
        return;
    if (!s) {
        reply_error(c->r, ERR_NO_KEY);
        return;
    }
    if (full) {
        stream_full(c, s, count);
        return;
    }
    reply_map(c->r, 10);
    stream_header(c->r, s);
    field(c->r, "groups");
    reply_int(c->r, (long long)s->ngroups);
    field(c->r, "first-entry");
    reply_edge(c->r, s, 0);
    field(c->r, "last-entry");
    reply_edge(c->r, s, 1);
}

/* XINFO GROUPS key */
static void xinfo_groups(cmd_ctx_t *c)
{
    stream_t *s;
    if (stream_lookup(c, c->argv[2], LOOKUP_NOTOUCH, &s, NULL) != 0)
        return;
    if (!s) {
        reply_error(c->r, ERR_NO_KEY);
        return;
    }
    reply_array(c->r, (long)s->ngroups);
    for (size_t i = 0; i < s->ngroups; i++) {
        const scgroup_t *g = s->groups[i];
        reply_map(c->r, 6);
        field(c->r, "name");
        reply_bulk(c->r, g->name, g->nlen);
        field(c->r, "consumers");
        reply_int(c->r, (long long)g->nconsumers);
        field(c->r, "pending");
        reply_int(c->r, (long long)g->npel);
        field(c->r, "last-delivered-id");
        stream_reply_id(c->r, g->last_id);
        field(c->r, "entries-read");
        reply_lag(c->r, s, g);
    }
}

/* XINFO CONSUMERS key group */
static void xinfo_consumers(cmd_ctx_t *c)
{
    stream_t *s;
    sv_t key = c->argv[2], gname = c->argv[3];
    if (stream_lookup(c, key, LOOKUP_NOTOUCH, &s, NULL) != 0)
        return;
    if (!s) {
        reply_error(c->r, ERR_NO_KEY);
        return;
    }
    scgroup_t *g = stream_group_find(s, gname);
    if (!g) {
        reply_errorf(c->r, "NOGROUP No such consumer group '%.*s' for key name '%.*s'",
                     (int)gname.len, gname.p, (int)key.len, key.p);
        return;
    }
    reply_array(c->r, (long)g->nconsumers);
    for (size_t i = 0; i < g->nconsumers; i++) {
        const sconsumer_t *k = g->consumers[i];
        long long idle = c->now_ms > k->seen_time ? (long long)(c->now_ms - k->seen_time) : 0;
        reply_map(c->r, 3);
        field(c->r, "name");
        reply_bulk(c->r, k->name, k->nlen);
        field(c->r, "pending");
        reply_int(c->r, (long long)k->npel);
        field(c->r, "idle");
        reply_int(c->r, idle);
    }
}

static const char *const xinfo_help[] = {
    "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
    "HELP",
    "    Prints this help.",
    NULL,
};

/* XINFO STREAM | GROUPS | CONSUMERS | HELP */
static void xinfo_command(cmd_ctx_t *c)
{
    if (c->argc >= 3 && arg_is(c, 1, "stream"))
        xinfo_stream(c);
    else if (c->argc == 3 && arg_is(c, 1, "groups"))
        xinfo_groups(c);
    else if (c->argc == 4 && arg_is(c, 1, "consumers"))
        xinfo_consumers(c);
    else if (c->argc == 2 && arg_is(c, 1, "help"))
        reply_help(c->r, xinfo_help);
    else
        reply_subcommand_error(c, "xinfo");
}

static int xinfo_keys(int argc, const sv_t *argv, int *first, int *last, int *step)
{
    if (argc >= 3 && !sv_eq_ci(argv[1], "help"))
        *first = *last = 2;
    *step = 1;
    return 0;
}

static uint32_t xinfo_flags(int argc, const sv_t *argv)
{
    return argc >= 3 && !sv_eq_ci(argv[1], "help") ? CMD_READONLY : 0;
}

static const char *const xinfo_subcommands[] = {"xinfo|stream", "xinfo|groups",
                                                "xinfo|consumers", "xinfo|help", NULL};

const command_t cmds_stream_info[] = {
    CMD_ROW("xinfo", xinfo_command, -2, 0, 0, 0, 0, "@slow", "stream", "5.0.0",
        "A container for stream introspection commands", .keys_fn = xinfo_keys,
        .flags_fn = xinfo_flags, .subcommands = xinfo_subcommands,
        .subcommand_rows = subcmds_xinfo),
    {0},
};
