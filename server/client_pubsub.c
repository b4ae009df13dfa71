/* Pub/Sub at the connections layer: SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE
 * PUNSUBSCRIBE SSUBSCRIBE SUNSUBSCRIBE, which change the issuing client's
 * subscriptions (CMD_HOME: they run on the thread that owns the client, its
 * home worker or, under work-stealing, the worker serving it), RESET's
 * unsubscribing, and RESP2's subscribed mode. The registry and the mailboxes
 * that carry messages to the client's home worker are pubsub.c's (the design
 * is in pubsub.h); PUBLISH, SPUBLISH and PUBSUB are cmd_pubsub.c's. */
#include <stdatomic.h>

#include "client.h"
#include "cmd_util.h"
#include "command.h"
#include "pubsub.h"

pubsub_sub_t *client_pubsub_sub(client_t *c)
{
    if (!c->ps) {
        c->ps = pubsub_sub_new(c->home, c, client_pubsub_wake);
        pubsub_sub_set_proto(c->ps, c->proto);
        pubsub_sub_set_id(c->ps, c->id);
    }
    return c->ps;
}

void client_pubsub_changed(client_t *c)
{
    size_t ch = pubsub_count(c->ps, PUBSUB_CHANNEL), pat = pubsub_count(c->ps, PUBSUB_PATTERN),
           sh = pubsub_count(c->ps, PUBSUB_SHARD);
    c->in_pubsub = ch + pat + sh > 0;
    atomic_store_explicit(&c->shown_sub, (int)ch, memory_order_relaxed);
    atomic_store_explicit(&c->shown_psub, (int)pat, memory_order_relaxed);
    atomic_store_explicit(&c->shown_ssub, (int)sh, memory_order_relaxed);
}

void client_pubsub_reset(client_t *c)
{
    if (!c->ps)
        return;
    for (int k = 0; k < PUBSUB_KINDS; k++)
        pubsub_unsubscribe_all(c->ps, k, NULL, NULL);
    client_pubsub_changed(c);
}

int client_pubsub_refuse(client_t *c, const command_t *cmd, int argc, const sv_t *argv)
{
    if (cmd->flags & CMD_SUBSCRIBED)
        return 0;
    const char *full = cmd->subcommands && argc > 1 ? command_subcommand_name(cmd, argv[1]) : NULL;
    c->err.len = 0;
    buf_printf(&c->err,
               "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / "
               "RESET are allowed in this context",
               full ? full : cmd->name);
    command_refused(worker_self(), cmd, buf_cstr(&c->err));
    return -1;
}

/* The count an (un)subscribe reply carries: channels and patterns together,
 * shard channels on their own (Redis 7.0). */
static long long class_count(client_t *c, int kind)
{
    if (kind == PUBSUB_SHARD)
        return (long long)pubsub_count(c->ps, PUBSUB_SHARD);
    return (long long)(pubsub_count(c->ps, PUBSUB_CHANNEL) + pubsub_count(c->ps, PUBSUB_PATTERN));
}

static void reply_sub(reply_t *r, const char *verb, const sv_t *name, long long count)
{
    reply_push(r, 3);
    reply_bulk_cstr(r, verb);
    if (name)
        reply_bulk(r, name->p, name->len);
    else
        reply_null(r);
    reply_int(r, count);
}

static void subscribe_generic(cmd_ctx_t *c, int kind, const char *verb)
{
    client_t *cl = c->cl;
    pubsub_sub_t *ps = client_pubsub_sub(cl);
    for (int i = 1; i < c->argc; i++) {
        pubsub_subscribe(ps, kind, c->argv[i]);
        reply_sub(c->r, verb, &c->argv[i], class_count(cl, kind));
    }
    client_pubsub_changed(cl);
}

typedef struct unsub_reply {
    reply_t *r;
    const char *verb;
    long long others; /* the class's subscriptions of the other kind */
} unsub_reply_t;

static void unsub_each(void *arg, sv_t name, size_t left)
{
    unsub_reply_t *u = arg;
    reply_sub(u->r, u->verb, &name, (long long)left + u->others);
}

static void unsubscribe_generic(cmd_ctx_t *c, int kind, const char *verb)
{
    client_t *cl = c->cl;
    if (c->argc == 1) {
        unsub_reply_t u = {c->r, verb, 0};
        if (kind == PUBSUB_CHANNEL)
            u.others = (long long)pubsub_count(cl->ps, PUBSUB_PATTERN);
        else if (kind == PUBSUB_PATTERN)
            u.others = (long long)pubsub_count(cl->ps, PUBSUB_CHANNEL);
        if (!cl->ps || !pubsub_unsubscribe_all(cl->ps, kind, unsub_each, &u))
            reply_sub(c->r, verb, NULL, cl->ps ? class_count(cl, kind) : 0);
    } else {
        pubsub_sub_t *ps = client_pubsub_sub(cl);
        for (int i = 1; i < c->argc; i++) {
            pubsub_unsubscribe(ps, kind, c->argv[i]);
            reply_sub(c->r, verb, &c->argv[i], class_count(cl, kind));
        }
    }
    if (cl->ps)
        client_pubsub_changed(cl);
}

/* SUBSCRIBE channel [channel ...] */
static void cmd_subscribe(cmd_ctx_t *c) { subscribe_generic(c, PUBSUB_CHANNEL, "subscribe"); }
/* PSUBSCRIBE pattern [pattern ...] */
static void cmd_psubscribe(cmd_ctx_t *c) { subscribe_generic(c, PUBSUB_PATTERN, "psubscribe"); }
/* SSUBSCRIBE shardchannel [shardchannel ...]: standalone, so channels of any
 * slots may be mixed, as Redis 7.0 outside cluster mode. */
static void cmd_ssubscribe(cmd_ctx_t *c) { subscribe_generic(c, PUBSUB_SHARD, "ssubscribe"); }
/* UNSUBSCRIBE [channel [channel ...]] */
static void cmd_unsubscribe(cmd_ctx_t *c)
{
    unsubscribe_generic(c, PUBSUB_CHANNEL, "unsubscribe");
}
/* PUNSUBSCRIBE [pattern [pattern ...]] */
static void cmd_punsubscribe(cmd_ctx_t *c)
{
    unsubscribe_generic(c, PUBSUB_PATTERN, "punsubscribe");
}
/* SUNSUBSCRIBE [shardchannel [shardchannel ...]] */
static void cmd_sunsubscribe(cmd_ctx_t *c)
{
    unsubscribe_generic(c, PUBSUB_SHARD, "sunsubscribe");
}

/* The shard commands' channels are Redis's not-key key specs (COMMAND INFO
 * shows them); they need no partition, so they run where the client is. */
static int no_part(int argc, const sv_t *argv)
{
    (void)argc;
    (void)argv;
    return -1;
}

#define SUB_FLAGS (CMD_HOME | CMD_PUBSUB | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_SUBSCRIBED)

const command_t cmds_subscribe[] = {
    CMD_ROW("subscribe", cmd_subscribe, -2, SUB_FLAGS, 0, 0, 0, "@pubsub @slow", "pubsub",
        "2.0.0", "Listen for messages published to the given channels"),
    CMD_ROW("unsubscribe", cmd_unsubscribe, -1, SUB_FLAGS, 0, 0, 0, "@pubsub @slow", "pubsub",
        "2.0.0", "Stop listening for messages posted to the given channels"),
    CMD_ROW("psubscribe", cmd_psubscribe, -2, SUB_FLAGS, 0, 0, 0, "@pubsub @slow", "pubsub",
        "2.0.0", "Listen for messages published to channels matching the given patterns"),
    CMD_ROW("punsubscribe", cmd_punsubscribe, -1, SUB_FLAGS, 0, 0, 0, "@pubsub @slow", "pubsub",
        "2.0.0", "Stop listening for messages posted to channels matching the given patterns"),
    CMD_ROW("ssubscribe", cmd_ssubscribe, -2, SUB_FLAGS, 1, -1, 1, "@pubsub @slow", "pubsub",
        "7.0.0", "Listen for messages published to the given shard channels",
        .part_fn = no_part,
        .key_specs = "NOT_KEY index:1 range:-1,1,0"),
    CMD_ROW("sunsubscribe", cmd_sunsubscribe, -1, SUB_FLAGS, 1, -1, 1, "@pubsub @slow",
        "pubsub", "7.0.0", "Stop listening for messages posted to the given shard channels",
        .part_fn = no_part,
        .key_specs = "NOT_KEY index:1 range:-1,1,0"),
    {0},
};
