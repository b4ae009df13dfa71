/* Server commands that need no client: PING ECHO TIME COMMAND WAIT (INFO, which
 * reads every layer, is info.c's, at the top). Commands layer; keyless, so they run on
 * whichever worker runs the caller's commands, scripts included. QUIT RESET
 * HELLO AUTH SELECT CLIENT SHUTDOWN use the client: client_cmds.c. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "blocking.h"
#include "cmd_util.h"
#include "command.h"

/* PING [message] */
static void cmd_ping(cmd_ctx_t *c)
{
    if (c->argc > 2) {
        reply_wrong_arity(c->r, "ping");
    } else if (c->pubsub_resp2) { /* RESP2's subscribed mode: [pong, message] */
        reply_array(c->r, 2);
        reply_bulk_cstr(c->r, "pong");
        reply_bulk(c->r, c->argc == 2 ? c->argv[1].p : "", c->argc == 2 ? c->argv[1].len : 0);
    } else if (c->argc == 1) {
        reply_status(c->r, "PONG");
    } else {
        reply_bulk(c->r, c->argv[1].p, c->argv[1].len);
    }
}

/* ECHO message */
static void cmd_echo(cmd_ctx_t *c) { reply_bulk(c->r, c->argv[1].p, c->argv[1].len); }

/* TIME */
static void cmd_time(cmd_ctx_t *c)
{
    uint64_t us = now_us();
    reply_array(c->r, 2);
    reply_bulk_ll(c->r, (long long)(us / 1000000));
    reply_bulk_ll(c->r, (long long)(us % 1000000));
}

static const char *const command_subcommands[] = {
    "command|count", "command|list", "command|info", "command|docs", "command|getkeys",
    "command|getkeysandflags", "command|help", NULL};

/* ---- COMMAND ----------------------------------------------------------- */

static const struct {
    uint32_t flag;
    const char *name;
} flag_names[] = {
    /* Redis 7.0's order (pubsub after admin, blocking after noscript), and
     * like Redis 7.0 without may_replicate, which it hides on purpose. */
    {CMD_WRITE, "write"},     {CMD_READONLY, "readonly"}, {CMD_DENYOOM, "denyoom"},
    {CMD_ADMIN, "admin"},     {CMD_PUBSUB, "pubsub"},     {CMD_NOSCRIPT, "noscript"},
    {CMD_BLOCKING, "blocking"}, {CMD_LOADING, "loading"},
    {CMD_STALE, "stale"},     {CMD_SKIP_MONITOR, "skip_monitor"},
    {CMD_SKIP_SLOWLOG, "skip_slowlog"}, {CMD_ASKING, "asking"}, {CMD_FAST, "fast"},
    {CMD_NOAUTH, "no_auth"},  {CMD_NO_MANDATORY_KEYS, "no_mandatory_keys"},
    {CMD_NO_ASYNC_LOADING, "no_async_loading"}, {CMD_REFUSED_IN_MULTI, "no_multi"},
    {CMD_MOVABLEKEYS, "movablekeys"}, {CMD_ALLOW_BUSY, "allow_busy"},
};

static long count_words(const char *s)
{
    long n = 0;
    for (const char *p = s; *p;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        n++;
        while (*p && *p != ' ')
            p++;
    }
    return n;
}

/* The words of s: a set of statuses (ACL categories), or an array of bulks
 * (tips). */
static void reply_words(reply_t *r, const char *s, int as_set)
{
    s = s ? s : "";
    if (as_set)
        reply_set(r, count_words(s));
    else
        reply_array(r, count_words(s));
    for (const char *p = s; *p;) {
        while (*p == ' ')
            p++;
        const char *e = p;
        while (*e && *e != ' ')
            e++;
        if (e > p && as_set) {
            char word[64];
            snprintf(word, sizeof word, "%.*s", (int)(e - p), p);
            reply_status(r, word);
        } else if (e > p) {
            reply_bulk(r, p, (size_t)(e - p));
        }
        p = e;
    }
}

/* A set of the key_spec_flags names in flags, as Redis 7.0 replies them. */
static void reply_key_flags(reply_t *r, unsigned flags)
{
    long n = 0;
    for (int i = 0; key_spec_flag_name(i); i++)
        n += (flags >> i) & 1;
    reply_set(r, n);
    for (int i = 0; key_spec_flag_name(i); i++)
        if ((flags >> i) & 1)
            reply_status(r, key_spec_flag_name(i));
}

static void reply_kv_int(reply_t *r, const char *k, long long v)
{
    reply_bulk_cstr(r, k);
    reply_int(r, v);
}

/* COMMAND INFO's key specifications (command.h's key_spec_t; Redis's notes,
 * prose, are left out). */
static void reply_key_specs(reply_t *r, const command_t *cmd)
{
    reply_array(r, cmd->nks);
    for (int i = 0; i < cmd->nks; i++) {
        const key_spec_t *ks = &cmd->ks[i];
        reply_map(r, 3);
        reply_bulk_cstr(r, "flags");
        reply_key_flags(r, ks->flags);
        reply_bulk_cstr(r, "begin_search");
        reply_map(r, 2);
        reply_bulk_cstr(r, "type");
        reply_bulk_cstr(r, ks->bs_type == KS_BS_INDEX     ? "index"
                           : ks->bs_type == KS_BS_KEYWORD ? "keyword"
                                                          : "unknown");
        reply_bulk_cstr(r, "spec");
        if (ks->bs_type == KS_BS_INDEX) {
            reply_map(r, 1);
            reply_kv_int(r, "index", ks->pos);
        } else if (ks->bs_type == KS_BS_KEYWORD) {
            reply_map(r, 2);
            reply_bulk_cstr(r, "keyword");
            reply_bulk_cstr(r, ks->keyword);
            reply_kv_int(r, "startfrom", ks->pos);
        } else {
            reply_map(r, 0);
        }
        reply_bulk_cstr(r, "find_keys");
        reply_map(r, 2);
        reply_bulk_cstr(r, "type");
        reply_bulk_cstr(r, ks->fk_type == KS_FK_RANGE    ? "range"
                           : ks->fk_type == KS_FK_KEYNUM ? "keynum"
                                                         : "unknown");
        reply_bulk_cstr(r, "spec");
        if (ks->fk_type == KS_FK_RANGE) {
            reply_map(r, 3);
            reply_kv_int(r, "lastkey", ks->a);
            reply_kv_int(r, "keystep", ks->b);
            reply_kv_int(r, "limit", ks->c);
        } else if (ks->fk_type == KS_FK_KEYNUM) {
            reply_map(r, 3);
            reply_kv_int(r, "keynumidx", ks->a);
            reply_kv_int(r, "firstkey", ks->b);
            reply_kv_int(r, "keystep", ks->c);
        } else {
            reply_map(r, 0);
        }
    }
}

static void reply_command_info(reply_t *r, const command_t *cmd)
{
    reply_array(r, 10);
    reply_bulk_cstr(r, cmd->name);
    reply_int(r, cmd->arity);
    uint32_t flags = cmd->flags & CMD_INFO_NO_FLAGS ? 0 : cmd->flags;
    long nflags = 0;
    for (size_t i = 0; i < sizeof flag_names / sizeof *flag_names; i++)
        nflags += (flags & flag_names[i].flag) != 0;
    reply_set(r, nflags);
    for (size_t i = 0; i < sizeof flag_names / sizeof *flag_names; i++)
        if (flags & flag_names[i].flag)
            reply_status(r, flag_names[i].name);
    reply_int(r, cmd->first_key);
    reply_int(r, cmd->last_key);
    reply_int(r, cmd->key_step);
    reply_words(r, cmd->acl_categories, 1);
    reply_words(r, cmd->tips, 0);
    reply_key_specs(r, cmd);
    reply_array(r, cmd->nsub);
    for (int j = 0; j < cmd->nsub; j++)
        reply_command_info(r, &cmd->sub[j]);
}

static void reply_command_docs(reply_t *r, const command_t *cmd)
{
    reply_bulk_cstr(r, cmd->name);
    reply_map(r, cmd->nsub ? 4 : 3);
    reply_bulk_cstr(r, "summary");
    reply_bulk_cstr(r, cmd->summary ? cmd->summary : "");
    reply_bulk_cstr(r, "since");
    reply_bulk_cstr(r, cmd->since ? cmd->since : "1.0.0");
    reply_bulk_cstr(r, "group");
    reply_bulk_cstr(r, cmd->group ? cmd->group : "generic");
    if (cmd->nsub) { /* a container: its subcommands' docs, as Redis 7.0 */
        reply_bulk_cstr(r, "subcommands");
        reply_map(r, cmd->nsub);
        for (int j = 0; j < cmd->nsub; j++)
            reply_command_docs(r, &cmd->sub[j]);
    }
}

/* Does cmd (a top-level row, or one of its subcommands by full name) pass
 * COMMAND LIST's filter? kind: 0 none, 1 MODULE, 2 ACLCAT, 3 PATTERN. */
static int list_passes(const command_t *cmd, const char *name, int kind, sv_t arg)
{
    if (kind == 1)
        return 0; /* no modules */
    if (kind == 3)
        return glob_match(arg.p, arg.len, name, strlen(name), 1);
    if (kind == 2) {
        const char *cats = cmd->acl_categories ? cmd->acl_categories : "";
        for (const char *p = cats; *p;) {
            while (*p == ' ')
                p++;
            const char *e = p;
            while (*e && *e != ' ')
                e++;
            const char *w = *p == '@' ? p + 1 : p;
            if (e > w && (size_t)(e - w) == arg.len && strncasecmp(w, arg.p, arg.len) == 0)
                return 1;
            p = e;
        }
        return 0;
    }
    return 1;
}

/* COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]:
 * every command and subcommand ("config|get"), as Redis 7.0. */
static void command_list(cmd_ctx_t *c)
{
    int kind = 0;
    sv_t arg = {0};
    if (c->argc != 2) {
        if (c->argc != 5 || !arg_is(c, 2, "filterby")) {
            reply_error(c->r, ERR_SYNTAX);
            return;
        }
        kind = arg_is(c, 3, "module") ? 1 : arg_is(c, 3, "aclcat") ? 2
               : arg_is(c, 3, "pattern") ? 3 : 0;
        if (!kind) {
            reply_error(c->r, ERR_SYNTAX);
            return;
        }
        arg = c->argv[4];
    }
    long n = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass)
            reply_array(c->r, n);
        for (int i = 0; i < command_count(); i++) {
            const command_t *cmd = command_at(i);
            if (list_passes(cmd, cmd->name, kind, arg)) {
                if (pass)
                    reply_bulk_cstr(c->r, cmd->name);
                else
                    n++;
            }
            for (int j = 0; j < cmd->nsub; j++)
                if (list_passes(&cmd->sub[j], cmd->sub[j].name, kind, arg)) {
                    if (pass)
                        reply_bulk_cstr(c->r, cmd->sub[j].name);
                    else
                        n++;
                }
        }
    }
}

/* COMMAND [COUNT | INFO name... | DOCS [name...] | GETKEYS cmd args... | LIST] */
static void cmd_command(cmd_ctx_t *c)
{
    if (c->argc == 1) {
        reply_array(c->r, command_count());
        for (int i = 0; i < command_count(); i++)
            reply_command_info(c->r, command_at(i));
        return;
    }
    sv_t sub = c->argv[1];
    if (sv_eq_ci(sub, "COUNT") && c->argc == 2) {
        reply_int(c->r, command_count());
    } else if (sv_eq_ci(sub, "LIST")) {
        command_list(c);
    } else if (sv_eq_ci(sub, "INFO")) {
        if (c->argc == 2) {
            reply_array(c->r, command_count());
            for (int i = 0; i < command_count(); i++)
                reply_command_info(c->r, command_at(i));
            return;
        }
        reply_array(c->r, c->argc - 2);
        for (int i = 2; i < c->argc; i++) {
            const command_t *cmd = command_lookup(c->argv[i]);
            if (!cmd)
                cmd = command_lookup_sub(c->argv[i]);
            if (cmd)
                reply_command_info(c->r, cmd);
            else
                reply_null_array(c->r);
        }
    } else if (sv_eq_ci(sub, "DOCS")) {
        if (c->argc == 2) {
            reply_map(c->r, command_count());
            for (int i = 0; i < command_count(); i++)
                reply_command_docs(c->r, command_at(i));
            return;
        }
        long n = 0;
        for (int i = 2; i < c->argc; i++)
            n += command_lookup(c->argv[i]) || command_lookup_sub(c->argv[i]);
        reply_map(c->r, n);
        for (int i = 2; i < c->argc; i++) {
            const command_t *cmd = command_lookup(c->argv[i]);
            if (!cmd)
                cmd = command_lookup_sub(c->argv[i]);
            if (cmd)
                reply_command_docs(c->r, cmd);
        }
    } else if ((sv_eq_ci(sub, "GETKEYS") || sv_eq_ci(sub, "GETKEYSANDFLAGS")) && c->argc >= 4) {
        int with_flags = sv_eq_ci(sub, "GETKEYSANDFLAGS");
        const command_t *cmd = command_lookup(c->argv[2]);
        int argc = c->argc - 2;
        /* Redis 7.0's order: a command without keys at all, the arity, then
         * a call whose arguments give no keys (fine only for EVAL ... 0). */
        if (!cmd) {
            reply_error(c->r, "ERR Invalid command specified");
            return;
        }
        /* The shard channels of SPUBLISH, SSUBSCRIBE and SUNSUBSCRIBE are
         * Redis's not_key key specs: not keys here either. */
        if ((cmd->first_key <= 0 && !cmd->keys_fn) || (cmd->flags & CMD_PUBSUB)) {
            reply_error(c->r, "ERR The command has no key arguments");
            return;
        }
        if ((cmd->arity > 0 && argc != cmd->arity) || argc < -cmd->arity) {
            reply_error(c->r, "ERR Invalid number of arguments specified for command");
            return;
        }
        cmd_keys_t k;
        int n = command_keys(cmd, argc, c->argv + 2, &k) >= 0 ? cmd_keys_count(&k) : 0;
        if (!n && !(cmd->flags & CMD_NO_MANDATORY_KEYS)) {
            reply_error(c->r, "ERR Invalid arguments specified for command");
            return;
        }
        reply_array(c->r, n);
        for (int j = 0; j < n; j++) {
            int at = cmd_keys_at(&k, j);
            const sv_t *key = &c->argv[2 + at];
            if (with_flags) {
                reply_array(c->r, 2);
                reply_bulk(c->r, key->p, key->len);
                reply_key_flags(c->r, command_call_key_flags(cmd, argc, c->argv + 2, at));
            } else {
                reply_bulk(c->r, key->p, key->len);
            }
        }
    } else if (sv_eq_ci(sub, "HELP") && c->argc == 2) {
        static const char *const help[] = {
            "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
            "HELP",
            "    Print this help.",
            NULL,
        };
        reply_help(c->r, help);
    } else {
        reply_subcommand_error(c, "command");
    }
}

/* WAIT numreplicas timeout
 * A standalone server has no replica to acknowledge anything: 0 at once when
 * 0 are asked for (or inside MULTI, a script), else, as Redis 7.0, 0 after
 * timeout ms (0: never, until CLIENT UNBLOCK) as a keyless block
 * (blocking.h's BLOCKING_NO_KEYS; client_block.c answers its timeout). */
static void cmd_wait(cmd_ctx_t *c)
{
    long long want, ms;
    if (arg_ll(c, 1, &want, NULL) != 0 || arg_timeout_ms(c, 2, &ms) != 0)
        return;
    if (want <= 0 || !blocking_wait(c, 1, 0, 0, 0, (uint64_t)ms, BLOCKING_NO_KEYS))
        reply_int(c->r, 0);
}

/* The rows are cut in three around client_cmds.c's so that the ids keep their
 * order (see all_commands.c). */
const command_t cmds_ping[] = {
    CMD_ROW("ping", cmd_ping, -1, CMD_FAST | CMD_SUBSCRIBED, 0, 0, 0, "@fast @connection", "connection",
        "1.0.0", "Ping the server",
        .tips = "request_policy:all_shards response_policy:all_succeeded"),
    CMD_ROW("echo", cmd_echo, 2, CMD_FAST | CMD_LOADING | CMD_STALE, 0, 0, 0, "@fast @connection", "connection",
        "1.0.0", "Echo the given string"),
    {0},
};

const command_t cmds_time[] = {
    CMD_ROW("time", cmd_time, 1, CMD_FAST | CMD_LOADING | CMD_STALE, 0, 0, 0, "@fast",
        "server", "2.6.0", "Return the current server time",
        .tips = "nondeterministic_output"),
    {0},
};

const command_t cmds_server[] = {
    CMD_ROW("command", cmd_command, -1, CMD_LOADING | CMD_STALE, 0, 0, 0,
        "@slow @connection", "server", "2.8.13", "Get array of Redis command details",
        .subcommands = command_subcommands,
        .tips = "nondeterministic_output_order",
        .subcommand_rows = subcmds_command),
    CMD_ROW("wait", cmd_wait, 3, CMD_NOSCRIPT, 0, 0, 0, "@slow @connection", "generic", "3.0.0",
        "Wait for the synchronous replication of all the write commands sent in the context of "
        "the current connection",
        .tips = "request_policy:all_shards response_policy:agg_min"),
    {0},
};
