/* CONFIG GET/SET/RESETSTAT/HELP over the option table of config.h, with
 * Redis 7.0's replies and error texts. CONFIG is CMD_HOME: it runs on the
 * client's home worker, any worker; config.c makes that safe. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_util.h"
#include "command.h"
#include "config.h"
#include "log.h"
#include "store.h"

/* Redis keys clients ask for (redis-benchmark reads these two) that have a
 * fixed answer for a cache without persistence. CONFIG SET accepts only the
 * same value back. */
static const struct {
    const char *name, *value;
} fixed_keys[] = {
    {"save", ""},
    {"appendonly", "no"},
};
#define NFIXED ((int)(sizeof fixed_keys / sizeof fixed_keys[0]))

static int fixed_lookup(sv_t name)
{
    for (int i = 0; i < NFIXED; i++)
        if (sv_eq_ci(name, fixed_keys[i].name))
            return i;
    return -1;
}

/* One CONFIG GET result: the name replied, and an option or a fixed key. */
typedef struct match {
    const char *name;
    size_t len;
    const config_opt_t *opt; /* NULL: fixed_keys[fixed] */
    int fixed;
} match_t;

static int matched_name(const match_t *m, int n, const char *name, size_t len)
{
    for (int i = 0; i < n; i++)
        if (m[i].len == len && strncasecmp(m[i].name, name, len) == 0)
            return 1;
    return 0;
}

static int matched_target(const match_t *m, int n, const config_opt_t *opt, int fixed)
{
    for (int i = 0; i < n; i++)
        if (opt ? m[i].opt == opt : (!m[i].opt && m[i].fixed == fixed))
            return 1;
    return 0;
}

/* CONFIG GET parameter [parameter ...]
 * A parameter without glob characters is looked up by name (an alias too) and
 * replied under the name as given, as Redis does; a pattern matches every key
 * and alias, each option once. */
static void config_get_command(cmd_ctx_t *c)
{
    int total = CONFIG_NOPTS + NFIXED;
    while (config_name_at(total - NFIXED, NULL))
        total++;
    match_t *m = xcalloc((size_t)(total + c->argc), sizeof *m);
    int n = 0;
    for (int a = 2; a < c->argc; a++) {
        sv_t pat = c->argv[a];
        if (!memchr(pat.p, '*', pat.len) && !memchr(pat.p, '?', pat.len) &&
            !memchr(pat.p, '[', pat.len)) {
            if (matched_name(m, n, pat.p, pat.len))
                continue;
            const config_opt_t *o = config_lookup(pat.p, pat.len);
            int f = o ? -1 : fixed_lookup(pat);
            if (o || f >= 0)
                m[n++] = (match_t){pat.p, pat.len, o, f};
            continue;
        }
        const config_opt_t *o;
        const char *name;
        for (int i = 0; (name = config_name_at(i, &o)) != NULL; i++)
            if (!matched_target(m, n, o, -1) &&
                glob_match(pat.p, pat.len, name, strlen(name), 1))
                m[n++] = (match_t){name, strlen(name), o, -1};
        for (int f = 0; f < NFIXED; f++) {
            name = fixed_keys[f].name;
            if (!matched_target(m, n, NULL, f) && glob_match(pat.p, pat.len, name, strlen(name), 1))
                m[n++] = (match_t){name, strlen(name), NULL, f};
        }
    }
    reply_map(c->r, n);
    buf_t v;
    buf_init(&v);
    for (int i = 0; i < n; i++) {
        reply_bulk(c->r, m[i].name, m[i].len);
        if (m[i].opt) {
            v.len = 0;
            config_format_value(m[i].opt, &v);
            reply_bulk(c->r, v.data ? v.data : "", v.len);
        } else {
            reply_bulk_cstr(c->r, fixed_keys[m[i].fixed].value);
        }
    }
    buf_free(&v);
    free(m);
}

/* An argument quoted in an error reply, cut where a C string would end it. */
#define ARGF(s) (int)strnlen((s).p, (s).len), (s).p

/* CONFIG SET parameter value [parameter value ...]
 * All or nothing. The first problem in argument order is the one reported:
 * an unknown name, an immutable option or a repeated one (named as given),
 * then a value that does not parse (named by the option's own name). */
static void config_set_command(cmd_ctx_t *c)
{
    if (c->argc % 2) {
        reply_error(c->r, ERR_SYNTAX);
        return;
    }
    int npairs = (c->argc - 2) / 2;
    const config_opt_t **opts = xcalloc((size_t)npairs, sizeof *opts);
    sv_t *vals = xcalloc((size_t)npairs, sizeof *vals);
    int n = 0;
    for (int i = 0; i < npairs; i++) {
        sv_t name = c->argv[2 + 2 * i], val = c->argv[3 + 2 * i];
        const config_opt_t *o = config_lookup(name.p, name.len);
        if (!o) {
            int f = fixed_lookup(name);
            if (f < 0) {
                reply_errorf(c->r,
                             "ERR Unknown option or number of arguments for CONFIG SET - '%.*s'",
                             ARGF(name));
                goto done;
            }
            if (!sv_eq_ci(val, fixed_keys[f].value)) {
                reply_errorf(c->r,
                             "ERR CONFIG SET failed (possibly related to argument '%.*s') - can't "
                             "set immutable config",
                             ARGF(name));
                goto done;
            }
            continue; /* already so */
        }
        if (!(o->flags & CFGF_RUNTIME)) {
            reply_errorf(c->r,
                         "ERR CONFIG SET failed (possibly related to argument '%.*s') - can't set "
                         "immutable config",
                         ARGF(name));
            goto done;
        }
        for (int j = 0; j < n; j++) {
            if (opts[j] == o) {
                reply_errorf(c->r,
                             "ERR CONFIG SET failed (possibly related to argument '%.*s') - "
                             "duplicate parameter",
                             ARGF(name));
                goto done;
            }
        }
        opts[n] = o;
        vals[n] = val;
        n++;
    }
    char why[256];
    int bad = 0;
    if (n && config_set_runtime(n, opts, vals, &bad, why, sizeof why) != 0) {
        reply_errorf(c->r, "ERR CONFIG SET failed (possibly related to argument '%s') - %s",
                     opts[bad]->name, why);
        goto done;
    }
    reply_ok(c->r);
done:
    free(opts);
    free(vals);
}

/* CONFIG RESETSTAT */
static void config_resetstat_command(cmd_ctx_t *c)
{
    store_reset_stats();
    command_stats_reset(); /* and, through its hook, the layers above */
    reply_ok(c->r);
}

/* CONFIG REWRITE */
static void config_rewrite_command(cmd_ctx_t *c)
{
    int rc = config_rewrite();
    if (rc == -2) {
        reply_error(c->r, "ERR The server is running without a config file");
    } else if (rc != 0) {
        int e = errno;
        log_warn("CONFIG REWRITE failed: %s", strerror(e));
        reply_errorf(c->r, "ERR Rewriting config file: %s", strerror(e));
    } else {
        log_warn("CONFIG REWRITE executed with success.");
        reply_ok(c->r);
    }
}

/* CONFIG HELP */
static void config_help_command(cmd_ctx_t *c)
{
    static const char *const help[] = {
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        "HELP",
        "    Prints this help.",
        NULL,
    };
    reply_help(c->r, help);
}

/* CONFIG <subcommand> [<arg> ...]
 * Subcommands are checked like Redis's container commands: an unknown one
 * first, then the subcommand's own arity ('config|get' in the error). */
static void config_command(cmd_ctx_t *c)
{
    static const struct {
        const char *name;
        cmd_handler *proc;
        int arity;
    } subs[] = {
        {"get", config_get_command, -3},
        {"set", config_set_command, -4},
        {"resetstat", config_resetstat_command, 2},
        {"rewrite", config_rewrite_command, 2},
        {"help", config_help_command, 2},
    };
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        if (!sv_eq_ci(c->argv[1], subs[i].name))
            continue;
        int a = subs[i].arity;
        if ((a > 0 && c->argc != a) || (a < 0 && c->argc < -a)) {
            char full[32];
            snprintf(full, sizeof full, "config|%s", subs[i].name);
            reply_wrong_arity(c->r, full);
            return;
        }
        subs[i].proc(c);
        return;
    }
    int len = (int)strnlen(c->argv[1].p, c->argv[1].len);
    reply_errorf(c->r, "ERR unknown subcommand '%.*s'. Try CONFIG HELP.", len > 128 ? 128 : len,
                 c->argv[1].p);
}

static const char *const config_subcommands[] = {"config|get", "config|set", "config|resetstat",
                                                  "config|rewrite", "config|help", NULL};

const command_t cmds_config[] = {
    CMD_ROW("config", config_command, -2, CMD_INFO_NO_FLAGS |
        CMD_ADMIN | CMD_HOME | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, 0, 0, 0,
        "@slow", "server", "2.0.0",
        "A container for server configuration commands", .subcommands = config_subcommands,
        .subcommand_rows = subcmds_config),
    {0},
};
