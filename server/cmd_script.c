/* cmd_script — EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT; the engine
 * is in scripting/ (script.h).
 *
 * A script's task holds the partitions of its declared KEYS (script_keys
 * below): scripts whose KEYS share a partition (hash tags) take the
 * single-partition path of every policy, others run as multi-partition
 * tasks; with allow-undeclared-keys = yes every script holds every
 * partition. SCRIPT runs on the client's home worker and holds nothing. */
#include "cmd_util.h"
#include "command.h"
#include "config.h"
#include "object.h"
#include "script.h"

/* Movable keys: numkeys at argv[2], then the keys. 1 (every partition) when
 * scripts may touch undeclared keys; -1 for a bad numkeys, which the handler
 * then reports without holding anything. */
static int script_keys(int argc, const sv_t *argv, int *first, int *last, int *step)
{
    long long n;
    if (str_to_ll(argv[2].p, argv[2].len, &n) != 0 || n < 0 || n > argc - 3)
        return -1;
    *step = 1;
    *first = n ? 3 : 0;
    *last = n ? 3 + (int)n - 1 : 0;
    /* With undeclared keys allowed the script holds every partition; the
     * range stays set for ACL's key check (acl.c). */
    return config_get_int(CFG_ALLOW_UNDECLARED_KEYS) ? 1 : 0;
}

/* EVAL script numkeys [key [key ...]] [arg [arg ...]] */
static void eval_command(cmd_ctx_t *c) { script_eval(c, 0, 0); }
/* EVALSHA sha1 numkeys [key [key ...]] [arg [arg ...]] */
static void evalsha_command(cmd_ctx_t *c) { script_eval(c, 1, 0); }
/* EVAL_RO script numkeys [key [key ...]] [arg [arg ...]] */
static void eval_ro_command(cmd_ctx_t *c) { script_eval(c, 0, 1); }
/* EVALSHA_RO sha1 numkeys [key [key ...]] [arg [arg ...]] */
static void evalsha_ro_command(cmd_ctx_t *c) { script_eval(c, 1, 1); }

static const char *const script_help[] = {
    "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Both modes empty the cache at once.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
    "HELP",
    "    Print this help.",
    NULL,
};

/* SCRIPT LOAD script | EXISTS sha1 [sha1 ...] | FLUSH [ASYNC|SYNC] | KILL | HELP
 * A wrong count for a known subcommand names it ('script|kill'), as Redis 7.0's
 * container commands do (reply_subcommand_error). */
static void script_command(cmd_ctx_t *c)
{
    if (arg_is(c, 1, "load") && c->argc == 3) {
        script_load(c, c->argv[2]);
    } else if (arg_is(c, 1, "exists") && c->argc >= 3) {
        reply_array(c->r, c->argc - 2);
        for (int i = 2; i < c->argc; i++)
            reply_int(c->r, script_exists(c->argv[i]));
    } else if (arg_is(c, 1, "flush")) {
        if (c->argc > 3 || (c->argc == 3 && !arg_is(c, 2, "sync") && !arg_is(c, 2, "async"))) {
            reply_error(c->r, "ERR SCRIPT FLUSH only support SYNC|ASYNC option");
            return;
        }
        script_flush();
        reply_ok(c->r);
    } else if (arg_is(c, 1, "kill") && c->argc == 2) {
        script_kill(c->r);
    } else if (arg_is(c, 1, "debug") && c->argc == 3) {
        script_debug_command(c);
    } else if (arg_is(c, 1, "help") && c->argc == 2) {
        reply_help(c->r, script_help);
    } else {
        reply_subcommand_error(c, "script");
    }
}

/* Of SCRIPT's subcommands only KILL is served while a script is busy: it is
 * what ends the script. */
static uint32_t script_flags(int argc, const sv_t *argv)
{
    return argc == 2 && sv_eq_ci(argv[1], "kill") ? CMD_ALLOW_BUSY : 0;
}

static const char *const script_subcommands[] = {"script|load", "script|exists", "script|flush",
                                                  "script|kill", "script|help", "script|debug", NULL};

const command_t cmds_script[] = {
    CMD_ROW("eval", eval_command, -3,
        CMD_NOSCRIPT | CMD_MAY_REPLICATE | CMD_STALE | CMD_SKIP_MONITOR | CMD_NO_MANDATORY_KEYS | CMD_MOVABLEKEYS,
        0, 0, 0, "@slow @scripting", "scripting", "2.6.0", "Execute a Lua script server side",
        .keys_fn = script_keys,
        .key_specs = "RW ACCESS UPDATE index:2 keynum:0,1,1"),
    CMD_ROW("evalsha", evalsha_command, -3,
        CMD_NOSCRIPT | CMD_MAY_REPLICATE | CMD_STALE | CMD_SKIP_MONITOR | CMD_NO_MANDATORY_KEYS | CMD_MOVABLEKEYS,
        0, 0, 0, "@slow @scripting", "scripting", "2.6.0", "Execute a Lua script server side",
        .keys_fn = script_keys,
        .key_specs = "RW ACCESS UPDATE index:2 keynum:0,1,1"),
    CMD_ROW("eval_ro", eval_ro_command, -3,
        CMD_NOSCRIPT | CMD_READONLY | CMD_STALE | CMD_SKIP_MONITOR | CMD_NO_MANDATORY_KEYS | CMD_MOVABLEKEYS, 0, 0, 0,
        "@slow @scripting", "scripting", "7.0.0", "Execute a read-only Lua script server side",
        .keys_fn = script_keys,
        .key_specs = "RO ACCESS index:2 keynum:0,1,1"),
    CMD_ROW("evalsha_ro", evalsha_ro_command, -3,
        CMD_NOSCRIPT | CMD_READONLY | CMD_STALE | CMD_SKIP_MONITOR | CMD_NO_MANDATORY_KEYS | CMD_MOVABLEKEYS, 0, 0, 0,
        "@slow @scripting", "scripting", "7.0.0", "Execute a read-only Lua script server side",
        .keys_fn = script_keys,
        .key_specs = "RO ACCESS index:2 keynum:0,1,1"),
    CMD_ROW("script", script_command, -2, CMD_INFO_NO_FLAGS | CMD_HOME | CMD_NOSCRIPT, 0, 0, 0, "@slow",
        "scripting", "2.6.0", "A container for Lua scripts management commands",
        .flags_fn = script_flags, .subcommands = script_subcommands,
        .subcommand_rows = subcmds_script),
    {0},
};
