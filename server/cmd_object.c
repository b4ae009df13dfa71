/* cmd_object — OBJECT ENCODING | FREQ | IDLETIME | REFCOUNT | HELP: what the
 * store keeps about one key, read without touching its LRU/LFU data.
 *
 * The key subcommands run with argv[2]'s partition held (object_keys); HELP
 * and an unknown subcommand hold none and touch no key. */
#include <string.h>

#include "cmd_util.h"
#include "command.h"
#include "db.h"
#include "object.h"
#include "resp.h"
#include "store.h"

/* Redis's wording of the two policy errors, exactly (clients match on them). */
#define ERR_IDLE_LFU                                                                           \
    "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "   \
    "switching between policies at runtime LRU and LFU data will take some time to adjust."
#define ERR_FREQ_NOT_LFU                                                                       \
    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note "  \
    "that when switching between policies at runtime LRU and LFU data will take some time to " \
    "adjust."

/* OBJECT ENCODING key */
static void object_encoding_command(cmd_ctx_t *c)
{
    obj_t *o = db_lookup(c, c->argv[2], LOOKUP_NOTOUCH | LOOKUP_NONOTIFY);
    if (!o)
        reply_null(c->r);
    else
        reply_bulk_cstr(c->r, obj_encoding_name(o));
}

/* OBJECT FREQ key */
static void object_freq_command(cmd_ctx_t *c)
{
    db_key_meta_t m;
    if (db_key_meta(c, c->argv[2], &m) != 0) {
        reply_null(c->r);
        return;
    }
    /* As Redis: the counter is only kept current under an LFU policy. */
    if (!store_policy_is_lfu()) {
        reply_error(c->r, ERR_FREQ_NOT_LFU);
        return;
    }
    reply_int(c->r, (long long)m.freq);
}

/* OBJECT IDLETIME key */
static void object_idletime_command(cmd_ctx_t *c)
{
    db_key_meta_t m;
    if (db_key_meta(c, c->argv[2], &m) != 0) {
        reply_null(c->r);
        return;
    }
    if (store_policy_is_lfu()) {
        reply_error(c->r, ERR_IDLE_LFU);
        return;
    }
    reply_int(c->r, (long long)(m.idle_ms / 1000));
}

/* OBJECT REFCOUNT key
 * percore never shares a value between keys (object.h: a value lives inside
 * its key's entry), so a live key's value has exactly one reference. */
static void object_refcount_command(cmd_ctx_t *c)
{
    if (!db_lookup(c, c->argv[2], LOOKUP_NOTOUCH | LOOKUP_NONOTIFY))
        reply_null(c->r);
    else
        reply_int(c->r, 1);
}

/* OBJECT HELP */
static void object_help_command(cmd_ctx_t *c)
{
    static const char *const help[] = {
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    The internal representation of the value of <key>, by Redis's names.",
        "FREQ <key>",
        "    The logarithmic access-frequency counter of <key> (LFU policies only).",
        "IDLETIME <key>",
        "    Seconds since <key> was last accessed (not under LFU policies).",
        "REFCOUNT <key>",
        "    References to the value of <key> (always 1: values are never shared).",
        "HELP",
        "    Prints this help.",
        NULL,
    };
    reply_help(c->r, help);
}

/* OBJECT <subcommand> [<arg> ...] */
static void object_command(cmd_ctx_t *c)
{
    if (c->argc == 3 && arg_is(c, 1, "encoding"))
        object_encoding_command(c);
    else if (c->argc == 3 && arg_is(c, 1, "freq"))
        object_freq_command(c);
    else if (c->argc == 3 && arg_is(c, 1, "idletime"))
        object_idletime_command(c);
    else if (c->argc == 3 && arg_is(c, 1, "refcount"))
        object_refcount_command(c);
    else if (c->argc == 2 && arg_is(c, 1, "help"))
        object_help_command(c);
    else
        reply_subcommand_error(c, "object");
}

/* The key subcommands' key is argv[2]; HELP has none. */
static int object_keys(int argc, const sv_t *argv, int *first, int *last, int *step)
{
    if (argc >= 3 && !sv_eq_ci(argv[1], "help"))
        *first = *last = 2;
    *step = 1;
    return 0;
}

/* The container's row has Redis's (no flags); its key subcommands read. */
static uint32_t object_flags(int argc, const sv_t *argv)
{
    return argc >= 3 && !sv_eq_ci(argv[1], "help") ? CMD_READONLY : 0;
}

static const char *const object_subcommands[] = {"object|encoding", "object|freq",
                                                 "object|idletime", "object|refcount",
                                                 "object|help", NULL};

const command_t cmds_object[] = {
    CMD_ROW("object", object_command, -2, 0, 0, 0, 0, "@slow", "generic", "2.2.3",
        "A container for object introspection commands", .keys_fn = object_keys,
        .flags_fn = object_flags, .subcommands = object_subcommands,
        .subcommand_rows = subcmds_object),
    {0},
};
