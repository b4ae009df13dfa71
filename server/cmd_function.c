/* cmd_function — FCALL, FCALL_RO and FUNCTION (Redis 7.0's functions); the
 * registry and the Lua side are in scripting/ (script.h, script_func*.c).
 *
 * FCALL is scheduled as EVAL (cmd_script.c): its task holds the partitions
 * of its declared keys (every partition with allow-undeclared-keys = yes),
 * and the function runs through EVAL's engine path (limits, busy replies,
 * FUNCTION KILL, reply conversion). FUNCTION runs on the client's home
 * worker and holds nothing: the registry is shared by every worker.
 *
 * FUNCTION DUMP's payload is Redis 7.0's: each library's code as an RDB
 * string after opcode FUNCTION2, then the RDB version and CRC-64 (rdb.h), so
 * libraries move between percore and redis-server both ways. */
#include <stdlib.h>

#include "cmd_util.h"
#include "command.h"
#include "config.h"
#include "rdb.h"
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
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
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

static int dump_library(void *arg, const char *code, size_t len)
{
    rdb_put_type(arg, RDB_OPCODE_FUNCTION2);
    rdb_put_string(arg, code, len);
    return 0;
}

/* FUNCTION DUMP */
static void function_dump_command(cmd_ctx_t *c)
{
    buf_t b = {0};
    function_each_code(dump_library, &b);
    rdb_put_frame(&b);
    reply_bulk(c->r, b.data, b.len);
    buf_free(&b);
}

/* FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]: the payload is checked
 * whole (frame, opcodes, strings) before function_restore loads every
 * library or none. */
static void function_restore_command(cmd_ctx_t *c)
{
    int policy = FUNC_POLICY_APPEND;
    if (c->argc == 4) {
        if (arg_is(c, 3, "flush")) {
            policy = FUNC_POLICY_FLUSH;
        } else if (arg_is(c, 3, "replace")) {
            policy = FUNC_POLICY_REPLACE;
        } else if (!arg_is(c, 3, "append")) {
            reply_error(c->r, "ERR Wrong restore policy given, value should be either FLUSH, "
                              "APPEND or REPLACE.");
            return;
        }
    }
    rdb_reader_t rd;
    if (rdb_check_frame(c->argv[2].p, c->argv[2].len, &rd) != 0) {
        reply_error(c->r, "ERR DUMP payload version or checksum are wrong");
        return;
    }
    /* The codes are kept in one buffer (offsets first, pointers after it
     * stops growing); each library is at least 3 bytes of payload, so n is
     * bounded by the payload's size. */
    buf_t all = {0}, one = {0};
    size_t *offs = NULL, n = 0, cap = 0;
    const char *err = NULL;
    while (!rdb_at_end(&rd)) {
        int type;
        if (rdb_get_type(&rd, &type) != 0) {
            err = "ERR failed loading the given functions payload";
        } else if (type == RDB_OPCODE_FUNCTION_PRE_GA) {
            err = "ERR Pre-GA function format not supported";
        } else if (type != RDB_OPCODE_FUNCTION2) {
            err = "ERR given type is not a function";
        } else if (one.len = 0, rdb_get_string(&rd, &one) != 0) {
            err = "ERR Failed loading library payload";
        }
        if (err)
            break;
        if (n == cap) {
            cap = cap ? 2 * cap : 8;
            offs = xrealloc(offs, 2 * cap * sizeof *offs);
        }
        offs[2 * n] = all.len;
        offs[2 * n + 1] = one.len;
        buf_append(&all, one.data, one.len);
        n++;
    }
    if (err) {
        reply_error(c->r, err);
    } else {
        sv_t *codes = xcalloc(n ? n : 1, sizeof *codes);
        for (size_t i = 0; i < n; i++)
            codes[i] = (sv_t){all.data + offs[2 * i], offs[2 * i + 1]};
        char msg[512];
        if (function_restore(codes, (int)n, policy, msg, sizeof msg) != 0) {
            reply_error(c->r, msg);
        } else {
            c->dirty++;
            reply_ok(c->r);
        }
        free(codes);
    }
    free(offs);
    buf_free(&one);
    buf_free(&all);
}

/* FUNCTION LOAD | DELETE | FLUSH | LIST | STATS | KILL | DUMP | RESTORE |
 * HELP. Wrong counts name the subcommand, as
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
    } else if (arg_is(c, 1, "dump") && c->argc == 2) {
        function_dump_command(c);
    } else if (arg_is(c, 1, "restore") && (c->argc == 3 || c->argc == 4)) {
        function_restore_command(c);
    } else if (arg_is(c, 1, "restore") && c->argc > 4) {
        /* Redis 7.0's own text (its RESTORE takes any count past 3). */
        reply_errorf(c->r, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try "
                           "FUNCTION HELP.", (int)c->argv[1].len, c->argv[1].p);
    } else if (arg_is(c, 1, "help") && c->argc == 2) {
        reply_help(c->r, function_help);
    } else {
        reply_subcommand_error(c, "function");
    }
}

/* KILL and STATS are served while a script is busy (Redis's allow-busy
 * subcommands): KILL is what ends a busy function. LOAD and RESTORE are
 * refused over maxmemory (Redis's denyoom). */
static uint32_t function_flags(int argc, const sv_t *argv)
{
    if (argc == 2 && (sv_eq_ci(argv[1], "kill") || sv_eq_ci(argv[1], "stats")))
        return CMD_ALLOW_BUSY;
    if (argc >= 2 && (sv_eq_ci(argv[1], "load") || sv_eq_ci(argv[1], "restore")))
        return CMD_DENYOOM;
    return 0;
}

static const char *const function_subcommands[] = {
    "function|load", "function|delete", "function|flush", "function|list",
    "function|stats", "function|kill", "function|dump", "function|restore", "function|help", NULL};

const command_t cmds_function[] = {
    CMD_ROW("fcall", fcall_command, -3,
        CMD_NOSCRIPT | CMD_MAY_REPLICATE | CMD_STALE | CMD_SKIP_MONITOR | CMD_NO_MANDATORY_KEYS | CMD_MOVABLEKEYS,
        0, 0, 0, "@slow @scripting", "scripting", "7.0.0", "Invoke a function",
        .keys_fn = fcall_keys,
        .key_specs = "RW ACCESS UPDATE index:2 keynum:0,1,1"),
    CMD_ROW("fcall_ro", fcall_ro_command, -3,
        CMD_NOSCRIPT | CMD_READONLY | CMD_STALE | CMD_SKIP_MONITOR | CMD_NO_MANDATORY_KEYS | CMD_MOVABLEKEYS, 0, 0, 0,
        "@slow @scripting", "scripting", "7.0.0", "Invoke a read-only function",
        .keys_fn = fcall_keys,
        .key_specs = "RO ACCESS index:2 keynum:0,1,1"),
    CMD_ROW("function", function_command, -2, CMD_INFO_NO_FLAGS | CMD_HOME | CMD_NOSCRIPT, 0, 0, 0, "@slow",
        "scripting", "7.0.0", "A container for function commands",
        .flags_fn = function_flags, .subcommands = function_subcommands,
        .subcommand_rows = subcmds_function),
    {0},
};
