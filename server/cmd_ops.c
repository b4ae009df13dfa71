/* The operators' tools that need no client: SLOWLOG LATENCY LOLWUT ROLE
 * (commands layer, keyless: they run on whichever worker runs the caller's
 * commands). The logs they read are server-wide (slowlog.h, latency.h). */
#include <stdio.h>
#include <string.h>

#include "cmd_util.h"
#include "command.h"
#include "latency.h"
#include "slowlog.h"

/* Dispatch a container's subcommand by name, checking its arity as Redis's
 * container commands do ('slowlog|get' in the error); 0 when dispatched or
 * refused, -1 when the name is unknown (the caller replies). */
typedef struct subcmd {
    const char *name;
    cmd_handler *proc;
    int arity;
} subcmd_t;

static void dispatch(cmd_ctx_t *c, const subcmd_t *subs, const char *container)
{
    for (const subcmd_t *s = subs; s->name; s++) {
        if (!sv_eq_ci(c->argv[1], s->name))
            continue;
        if ((s->arity > 0 && c->argc != s->arity) || (s->arity < 0 && c->argc < -s->arity)) {
            reply_subcommand_error(c, container);
            return;
        }
        s->proc(c);
        return;
    }
    reply_subcommand_error(c, container);
}

/* ---- SLOWLOG ------------------------------------------------------------ */

/* SLOWLOG GET [count] */
static void slowlog_get(cmd_ctx_t *c)
{
    long long count = 10;
    if (c->argc == 3) {
        /* one text for every bad count, as Redis 7.0 */
        if (arg_ll(c, 2, &count, "ERR count should be greater than or equal to -1") != 0)
            return;
        if (count < -1) {
            reply_error(c->r, "ERR count should be greater than or equal to -1");
            return;
        }
    }
    slowlog_reply(c->r, count);
}

static void slowlog_len_cmd(cmd_ctx_t *c) { reply_int(c->r, slowlog_len()); }

static void slowlog_reset_cmd(cmd_ctx_t *c)
{
    slowlog_reset();
    reply_ok(c->r);
}

static void slowlog_help(cmd_ctx_t *c)
{
    static const char *const help[] = {
        "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        "HELP",
        "    Prints this help.",
        NULL,
    };
    reply_help(c->r, help);
}

/* SLOWLOG <GET [count] | LEN | RESET | HELP> */
static void cmd_slowlog(cmd_ctx_t *c)
{
    static const subcmd_t subs[] = {
        {"get", slowlog_get, -2},      {"len", slowlog_len_cmd, 2},
        {"reset", slowlog_reset_cmd, 2}, {"help", slowlog_help, 2},
        {NULL, NULL, 0},
    };
    if (c->argc == 3 && sv_eq_ci(c->argv[1], "get")) {
        slowlog_get(c);
        return;
    }
    if (sv_eq_ci(c->argv[1], "get") && c->argc > 3) { /* Redis's text for it */
        reply_errorf(c->r, "ERR unknown subcommand or wrong number of arguments for '%.*s'. "
                           "Try SLOWLOG HELP.", (int)c->argv[1].len, c->argv[1].p);
        return;
    }
    dispatch(c, subs, "slowlog");
}

/* ---- LATENCY -------------------------------------------------------------- */

static void latency_latest_cmd(cmd_ctx_t *c) { latency_reply_latest(c->r); }
static void latency_history_cmd(cmd_ctx_t *c) { latency_reply_history(c->r, c->argv[2]); }

static void latency_reset_cmd(cmd_ctx_t *c)
{
    reply_int(c->r, latency_reset(c->argc - 2, c->argv + 2));
}

static void latency_graph_cmd(cmd_ctx_t *c)
{
    buf_t o;
    buf_init(&o);
    if (latency_graph(c->argv[2], &o) != 0)
        reply_errorf(c->r, "ERR No samples available for event '%.*s'",
                     (int)(c->argv[2].len > 128 ? 128 : c->argv[2].len), c->argv[2].p);
    else
        reply_verbatim(c->r, o.data, o.len, "txt");
    buf_free(&o);
}

static void latency_doctor_cmd(cmd_ctx_t *c)
{
    buf_t o;
    buf_init(&o);
    latency_doctor(&o);
    reply_verbatim(c->r, o.data, o.len, "txt");
    buf_free(&o);
}

/* Reply a slot's name and histogram when it has calls; 1 if it did. */
static int histogram_entry(cmd_ctx_t *c, int slot)
{
    if (slot < 0 || !latency_slot_calls(slot))
        return 0;
    reply_bulk_cstr(c->r, latency_slot_name(slot));
    latency_hist_reply(c->r, slot);
    return 1;
}

/* A command's own slot and each of its subcommands' (a name "client"). */
static int histogram_command(cmd_ctx_t *c, const command_t *cmd)
{
    sv_t argv1[1] = {{cmd->name, strlen(cmd->name)}};
    int base = latency_slot(cmd, 1, argv1), k = histogram_entry(c, base);
    for (int j = 0; cmd->subcommands && cmd->subcommands[j]; j++)
        k += histogram_entry(c, base + 1 + j);
    return k;
}

/* LATENCY HISTOGRAM [command ...]: a map of the commands with calls, in the
 * order named, one entry per naming (as Redis 7.0: a name given twice is
 * answered twice); a name that is no command ("nosuch", "set|x") is skipped.
 * The reply is bounded by the arguments' count times the table's size. */
static void latency_histogram_cmd(cmd_ctx_t *c)
{
    int k = 0;
    size_t mark = reply_defer(c->r);
    if (c->argc == 2)
        for (int i = 0; i < command_count(); i++)
            k += histogram_command(c, command_at(i));
    for (int a = 2; a < c->argc; a++) {
        sv_t name = c->argv[a];
        const char *bar = memchr(name.p, '|', name.len);
        if (!bar) {
            const command_t *cmd = command_lookup(name);
            if (cmd)
                k += histogram_command(c, cmd);
            continue;
        }
        const command_t *cmd = command_lookup((sv_t){name.p, (size_t)(bar - name.p)});
        if (!cmd || !cmd->subcommands)
            continue;
        sv_t argv[2] = {{cmd->name, strlen(cmd->name)},
                        {bar + 1, name.len - (size_t)(bar - name.p) - 1}};
        if (memchr(argv[1].p, '|', argv[1].len) || !argv[1].len)
            continue;
        k += histogram_entry(c, latency_slot(cmd, 2, argv));
    }
    reply_defer_set(c->r, mark, '%', k);
}

static void latency_help(cmd_ctx_t *c)
{
    static const char *const help[] = {
        "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
        "    If no commands are specified then all histograms are replied.",
        "HELP",
        "    Prints this help.",
        NULL,
    };
    reply_help(c->r, help);
}

/* LATENCY <LATEST | HISTORY event | RESET [event ...] | GRAPH event | DOCTOR |
 *          HISTOGRAM [command ...] | HELP> */
static void cmd_latency(cmd_ctx_t *c)
{
    static const subcmd_t subs[] = {
        {"latest", latency_latest_cmd, 2},    {"history", latency_history_cmd, 3},
        {"reset", latency_reset_cmd, -2},     {"graph", latency_graph_cmd, 3},
        {"doctor", latency_doctor_cmd, 2},    {"histogram", latency_histogram_cmd, -2},
        {"help", latency_help, 2},            {NULL, NULL, 0},
    };
    dispatch(c, subs, "latency");
}

/* ---- LOLWUT, ROLE -------------------------------------------------------------- */

/* LOLWUT [VERSION version]
 * Our own drawing: a row of partitions, each a box, with workers' arrows
 * between them, sized by the version argument (any integer, as Redis takes
 * it); the last line names the server as Redis's does. */
static void cmd_lolwut(cmd_ctx_t *c)
{
    long long v = 7;
    /* Redis hands further arguments to the version's drawing: ignored here */
    if (c->argc >= 3 && arg_is(c, 1, "version") && arg_ll(c, 2, &v, NULL) != 0)
        return;
    int boxes = (int)(v < 1 ? 1 : v > 12 ? 12 : v);
    buf_t o;
    buf_init(&o);
    for (int row = 0; row < 3; row++) {
        for (int b = 0; b < boxes; b++)
            buf_printf(&o, "%s", row == 1 ? (b + 1 < boxes ? "| % |->" : "| % |")
                                          : (b + 1 < boxes ? "+---+  " : "+---+"));
        buf_printf(&o, "\n");
    }
    buf_printf(&o, "\npercore: one loop per core, keys in partitions. percore ver. %s, "
                   "Redis ver. %s\n", PERCORE_VERSION, REDIS_API_VERSION);
    reply_verbatim(c->r, o.data, o.len, "txt");
    buf_free(&o);
}

/* ROLE: a single primary with no replicas. */
static void cmd_role(cmd_ctx_t *c)
{
    reply_array(c->r, 3);
    reply_bulk_cstr(c->r, "master");
    reply_int(c->r, 0);
    reply_array(c->r, 0);
}

static const char *const slowlog_subcommands[] = {"slowlog|get", "slowlog|len", "slowlog|reset",
                                                   "slowlog|help", NULL};
static const char *const latency_subcommands[] = {
    "latency|latest", "latency|history", "latency|reset",  "latency|graph",
    "latency|doctor", "latency|histogram", "latency|help", NULL};

const command_t cmds_ops[] = {
    CMD_ROW("slowlog", cmd_slowlog, -2, CMD_INFO_NO_FLAGS | CMD_ADMIN | CMD_LOADING | CMD_STALE,
        0, 0, 0, "@slow", "server", "2.2.12", "A container for slow log commands",
        .subcommands = slowlog_subcommands, .subcommand_rows = subcmds_slowlog),
    CMD_ROW("latency", cmd_latency, -2,
        CMD_INFO_NO_FLAGS | CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, 0, 0, 0, "@slow", "server", "2.8.13",
        "A container for latency diagnostics commands", .subcommands = latency_subcommands,
        .subcommand_rows = subcmds_latency),
    CMD_ROW("lolwut", cmd_lolwut, -1, CMD_READONLY | CMD_FAST, 0, 0, 0, "@read @fast",
        "server", "5.0.0", "Display some computer art and the Redis version"),
    CMD_ROW("role", cmd_role, 1, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST, 0, 0, 0,
        "@admin @fast @dangerous", "server", "2.8.12",
        "Return the role of the instance in the context of replication"),
    {0},
};
