/* cmd_function — FCALL, FCALL_RO and FUNCTION (Redis 7.0's functions); the
 * registry and the Lua side are in scripting/ (script.h, script_func*.c).
 *
 * FCALL is scheduled as EVAL (cmd_script.c): its task holds the partitions
 * of its declared keys (every partition with allow-undeclared-keys = yes),
 * and the function runs through EVAL's engine path (limits, busy replies,
 * FUNCTION KILL, reply conversion). FUNCTION runs on the client's home
 * worker and holds nothing: the registry is shared by every worker.
 *
 * FUNCTION DUMP and RESTORE are not here yet: script.h's function_each_code
 * and function_restore are the API they will use. */
#include "cmd_util.h"
#include "command.h"
#include "config.h"
#include "script.h"

/* Movable keys: numkeys at argv[2], then the keys (as EVAL's). */
static int fcall_keys(int argc, const sv_t *argv, int *first, int *last, int *step)
{
    long long n;
    if (str_to_ll(argv[2].p, argv[2].len, &n) != 0 || n < 0 || n > argc - 3)
        return -1;
    if (config_get_int(CFG_ALLOW_UNDECLARED_KEYS))
        return 1;
    *step = 1;
    *first = n ? 3 : 0;
    *last = n ? 3 + (int)n - 1 : 0;
    return 0;
}

/* FCALL function numkeys [key [key ...]] [arg [arg ...]] */
static void fcall_command(cmd_ctx_t *c) { script_fcall(c, 0); }
/* FCALL_RO function numkeys [key [key ...]] [arg [arg ...]] */
static void fcall_ro_command(cmd_ctx_t *c) { script_fcall(c, 1); }

static const char *const function_help[] = {
    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    Both modes delete them at once.",
    "HELP",
    "    Prints this help.",
    NULL,
};

/* FUNCTION LOAD [REPLACE] code */
static void function_load_command(cmd_ctx_t *c)
{
    int replace = 0, i = 2;
    for (; i < c->argc - 1; i++) {
        if (arg_is(c, i, "replace")) {
            replace = 1;
        } else {
            reply_errorf(c->r, "ERR Unknown option given: %.*s",
                         (int)(c->argv[i].len > 128 ? 128 : c->argv[i].len), c->argv[i].p);
            return;
        }
    }
    function_load(c, c->argv[c->argc - 1], replace);
}

/* FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE] */
static void function_list_command(cmd_ctx_t *c)
{
    int withcode = 0, has_pattern = 0;
    sv_t pattern = {0};
    for (int i = 2; i < c->argc; i++) {
        if (arg_is(c, i, "withcode") && !withcode) {
            withcode = 1;
        } else if (arg_is(c, i, "libraryname") && !has_pattern) {
            if (i + 1 >= c->argc) {
                reply_error(c->r, "ERR library name argument was not given");
                return;
            }
            pattern = c->argv[++i];
            has_pattern = 1;
        } else {
            reply_errorf(c->r, "ERR Unknown argument %.*s",
                         (int)(c->argv[i].len > 128 ? 128 : c->argv[i].len), c->argv[i].p);
            return;
        }
    }
    function_list(c->r, pattern, has_pattern, withcode);
}

/* FUNCTION LOAD | DELETE | FLUSH | LIST | STATS | KILL | HELP (DUMP and
 * RESTORE: see the file's comment). Wrong counts name the subcommand, as
 * Redis 7.0's container commands do (reply_subcommand_error). */
static void function_command(cmd_ctx_t *c)
{
    if (arg_is(c, 1, "load") && c->argc >= 3) {
        function_load_command(c);
    } else if (arg_is(c, 1, "delete") && c->argc == 3) {
        if (function_delete(c->argv[2])) {
            c->dirty++;
            reply_ok(c->r);
        } else {
            reply_error(c->r, "ERR Library not found");
        }
    } else if (arg_is(c, 1, "flush") && c->argc > 3) {
        /* Redis 7.0's own text for it (FLUSH takes any count there). */
        reply_error(c->r, "ERR unknown subcommand or wrong number of arguments for 'flush'. Try "
                          "FUNCTION HELP.");
    } else if (arg_is(c, 1, "flush")) {
        if (c->argc == 3 && !arg_is(c, 2, "sync") && !arg_is(c, 2, "async")) {
            reply_error(c->r, "ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
            return;
        }
        function_flush();
        c->dirty++;
        reply_ok(c->r);
    } else if (arg_is(c, 1, "list") && c->argc >= 2) {
        function_list_command(c);
    } else if (arg_is(c, 1, "stats") && c->argc == 2) {
        function_stats(c->r);
    } else if (arg_is(c, 1, "kill") && c->argc == 2) {
        function_kill(c->r);
    } else if (arg_is(c, 1, "help") && c->argc == 2) {
        reply_help(c->r, function_help);
    } else {
        reply_subcommand_error(c, "function");
    }
}

/* KILL and STATS are served while a script is busy (Redis's allow-busy
 * subcommands): KILL is what ends a busy function. */
static uint32_t function_flags(int argc, const sv_t *argv)
{
    return argc == 2 && (sv_eq_ci(argv[1], "kill") || sv_eq_ci(argv[1], "stats")) ? CMD_ALLOW_BUSY
                                                                                   : 0;
}

static const char *const function_subcommands[] = {
    "function|load", "function|delete", "function|flush", "function|list",
    "function|stats", "function|kill", "function|help", NULL};

const command_t cmds_function[] = {
    CMD_ROW("fcall", fcall_command, -3,
        CMD_NOSCRIPT | CMD_MAY_REPLICATE | CMD_STALE | CMD_SKIP_MONITOR | CMD_NO_MANDATORY_KEYS | CMD_MOVABLEKEYS,
        0, 0, 0, "@slow @scripting", "scripting", "7.0.0", "Invoke a function",
        .keys_fn = fcall_keys),
    CMD_ROW("fcall_ro", fcall_ro_command, -3,
        CMD_NOSCRIPT | CMD_READONLY | CMD_STALE | CMD_SKIP_MONITOR | CMD_NO_MANDATORY_KEYS | CMD_MOVABLEKEYS, 0, 0, 0,
        "@slow @scripting", "scripting", "7.0.0", "Invoke a read-only function",
        .keys_fn = fcall_keys),
    CMD_ROW("function", function_command, -2, CMD_HOME | CMD_NOSCRIPT, 0, 0, 0, "@slow @scripting",
        "scripting", "7.0.0", "A container for function commands",
        .flags_fn = function_flags, .subcommands = function_subcommands),
    {0},
};
