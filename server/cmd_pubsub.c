/* PUBLISH SPUBLISH PUBSUB: commands layer, keyless (the shard channel is a
 * not-key key spec), so they run wherever the caller's commands run, in
 * MULTI and in scripts too. Delivery goes through pubsub.c's mailboxes (the
 * design is in pubsub.h); SUBSCRIBE and friends are client_pubsub.c's. */
#include <stdlib.h>
#include <string.h>

#include "cmd_util.h"
#include "command.h"
#include "pubsub.h"

/* PUBLISH channel message */
static void cmd_publish(cmd_ctx_t *c)
{
    reply_int(c->r, pubsub_publish(PUBSUB_CHANNEL, c->argv[1], c->argv[2]));
}

/* SPUBLISH shardchannel message */
static void cmd_spublish(cmd_ctx_t *c)
{
    reply_int(c->r, pubsub_publish(PUBSUB_SHARD, c->argv[1], c->argv[2]));
}

static const char *const pubsub_help[] = {
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
    NULL,
};

static const char *const pubsub_subcommands[] = {
    "pubsub|channels", "pubsub|numsub", "pubsub|numpat", "pubsub|shardchannels",
    "pubsub|shardnumsub", "pubsub|help", NULL};

/* The names collected under the registry's lock, replied after it. */
static void collect(void *arg, sv_t name)
{
    buf_t *b = arg;
    buf_append(b, &name.len, sizeof name.len);
    buf_append(b, name.p, name.len);
}

static void channels_generic(cmd_ctx_t *c, int kind)
{
    buf_t names;
    buf_init(&names);
    sv_t pat = c->argc == 3 ? c->argv[2] : (sv_t){NULL, 0};
    pubsub_channels(kind, c->argc == 3 ? &pat : NULL, collect, &names);
    long n = 0;
    for (size_t off = 0; off < names.len; n++) {
        size_t len;
        memcpy(&len, names.data + off, sizeof len);
        off += sizeof len + len;
    }
    reply_array(c->r, n);
    for (size_t off = 0; off < names.len;) {
        size_t len;
        memcpy(&len, names.data + off, sizeof len);
        off += sizeof len;
        reply_bulk(c->r, names.data + off, len);
        off += len;
    }
    buf_free(&names);
}

static void numsub_generic(cmd_ctx_t *c, int kind)
{
    reply_array(c->r, 2L * (c->argc - 2)); /* an array in RESP3 too, as Redis 7.0 */
    for (int i = 2; i < c->argc; i++) {
        reply_bulk(c->r, c->argv[i].p, c->argv[i].len);
        reply_int(c->r, pubsub_numsub(kind, c->argv[i]));
    }
}

/* PUBSUB CHANNELS [pattern] | NUMSUB [channel ...] | NUMPAT |
 *        SHARDCHANNELS [pattern] | SHARDNUMSUB [shardchannel ...] | HELP */
static void cmd_pubsub(cmd_ctx_t *c)
{
    sv_t sub = c->argv[1];
    if ((sv_eq_ci(sub, "CHANNELS") || sv_eq_ci(sub, "SHARDCHANNELS")) && c->argc > 3)
        /* Their arity is -2: a count past it is the handler's syntax error. */
        reply_errorf(c->r, "ERR unknown subcommand or wrong number of arguments for '%.*s'. "
                           "Try PUBSUB HELP.", (int)(sub.len > 128 ? 128 : sub.len), sub.p);
    else if (sv_eq_ci(sub, "CHANNELS"))
        channels_generic(c, PUBSUB_CHANNEL);
    else if (sv_eq_ci(sub, "SHARDCHANNELS"))
        channels_generic(c, PUBSUB_SHARD);
    else if (sv_eq_ci(sub, "NUMSUB"))
        numsub_generic(c, PUBSUB_CHANNEL);
    else if (sv_eq_ci(sub, "SHARDNUMSUB"))
        numsub_generic(c, PUBSUB_SHARD);
    else if (sv_eq_ci(sub, "NUMPAT") && c->argc == 2)
        reply_int(c->r, pubsub_active(PUBSUB_PATTERN));
    else if (sv_eq_ci(sub, "HELP") && c->argc == 2)
        reply_help(c->r, pubsub_help);
    else
        reply_subcommand_error(c, "pubsub");
}

/* The shard channel is a key spec for COMMAND, not a partition to hold. */
static int no_part(int argc, const sv_t *argv)
{
    (void)argc;
    (void)argv;
    return -1;
}

const command_t cmds_pubsub[] = {
    CMD_ROW("publish", cmd_publish, 3,
        CMD_PUBSUB | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_MAY_REPLICATE, 0, 0, 0,
        "@pubsub @fast", "pubsub", "2.0.0", "Post a message to a channel"),
    CMD_ROW("spublish", cmd_spublish, 3,
        CMD_PUBSUB | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_MAY_REPLICATE, 1, 1, 1,
        "@pubsub @fast", "pubsub", "7.0.0", "Post a message to a shard channel",
        .part_fn = no_part,
        .key_specs = "NOT_KEY index:1 range:0,1,0"),
    CMD_ROW("pubsub", cmd_pubsub, -2, CMD_INFO_NO_FLAGS | CMD_PUBSUB | CMD_LOADING | CMD_STALE, 0, 0, 0,
        "@slow", "pubsub", "2.8.0", "A container for Pub/Sub commands",
        .subcommands = pubsub_subcommands,
        .subcommand_rows = subcmds_pubsub),
    {0},
};
