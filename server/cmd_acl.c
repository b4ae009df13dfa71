/* ACL's subcommands (Redis 7.0): SETUSER GETUSER DELUSER USERS LIST WHOAMI
 * CAT GENPASS LOG DRYRUN SAVE LOAD HELP. The users live in acl.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acl.h"
#include "cmd_util.h"
#include "config.h"

/* ACL SETUSER username [rule ...] */
static void acl_setuser_cmd(cmd_ctx_t *c)
{
    buf_t err;
    buf_init(&err);
    if (acl_setuser(c->argv[2], c->argc - 3, c->argv + 3, &err) == 0)
        reply_ok(c->r);
    else
        reply_error(c->r, buf_cstr(&err));
    buf_free(&err);
}

static void reply_buf(reply_t *r, buf_t *b)
{
    reply_bulk(r, b->data, b->len);
    b->len = 0;
}

static void reply_sel(reply_t *r, const acl_sel_t *s, buf_t *b)
{
    reply_bulk_cstr(r, "commands");
    acl_describe_commands(s, b);
    reply_buf(r, b);
    reply_bulk_cstr(r, "keys");
    acl_describe_keys(s, b);
    reply_buf(r, b);
    reply_bulk_cstr(r, "channels");
    acl_describe_channels(s, b, 0);
    reply_buf(r, b);
}

/* ACL GETUSER username */
static void acl_getuser_cmd(cmd_ctx_t *c)
{
    acl_user_t *u = acl_get(c->argv[2].p, c->argv[2].len);
    if (!u) {
        reply_null(c->r);
        return;
    }
    buf_t b;
    buf_init(&b);
    reply_map(c->r, 6);
    reply_bulk_cstr(c->r, "flags");
    reply_set(c->r, 1 + u->nopass + (u->sanitize != 0));
    reply_bulk_cstr(c->r, u->on ? "on" : "off");
    if (u->nopass)
        reply_bulk_cstr(c->r, "nopass");
    if (u->sanitize)
        reply_bulk_cstr(c->r, u->sanitize == 1 ? "sanitize-payload" : "skip-sanitize-payload");
    reply_bulk_cstr(c->r, "passwords");
    reply_array(c->r, u->npw);
    for (int i = 0; i < u->npw; i++) {
        for (int j = 0; j < ACL_HASH_LEN; j++)
            buf_printf(&b, "%02x", u->pw[i][j]);
        reply_buf(c->r, &b);
    }
    reply_sel(c->r, &u->sels[0], &b);
    reply_bulk_cstr(c->r, "selectors");
    reply_array(c->r, u->nsels - 1);
    for (int i = 1; i < u->nsels; i++) {
        reply_map(c->r, 3);
        reply_sel(c->r, &u->sels[i], &b);
    }
    buf_free(&b);
    acl_release(u);
}

/* ACL DELUSER username [username ...] */
static void acl_deluser_cmd(cmd_ctx_t *c)
{
    for (int i = 2; i < c->argc; i++)
        if (c->argv[i].len == 7 && memcmp(c->argv[i].p, "default", 7) == 0) {
            reply_error(c->r, "ERR The 'default' user cannot be removed");
            return;
        }
    long long n = 0;
    for (int i = 2; i < c->argc; i++)
        n += acl_deluser(c->argv[i]) == 1;
    reply_int(c->r, n);
}

/* ACL USERS / ACL LIST */
static void acl_users_generic(cmd_ctx_t *c, int list)
{
    int n;
    acl_user_t **v = acl_users(&n);
    buf_t b;
    buf_init(&b);
    reply_array(c->r, n);
    for (int i = 0; i < n; i++) {
        if (list) {
            acl_describe_user(v[i], &b);
            reply_buf(c->r, &b);
        } else {
            reply_bulk_cstr(c->r, v[i]->name);
        }
        acl_release(v[i]);
    }
    buf_free(&b);
    free(v);
}
static void acl_users_cmd(cmd_ctx_t *c) { acl_users_generic(c, 0); }
static void acl_list_cmd(cmd_ctx_t *c) { acl_users_generic(c, 1); }

/* ACL WHOAMI */
static void acl_whoami_cmd(cmd_ctx_t *c)
{
    reply_bulk_cstr(c->r, c->user ? c->user->name : "default");
}

/* ACL CAT [category] */
static void acl_cat_cmd(cmd_ctx_t *c)
{
    if (c->argc == 2) {
        reply_array(c->r, acl_category_count());
        for (int i = 0; i < acl_category_count(); i++)
            reply_bulk_cstr(c->r, acl_category_name(i));
        return;
    }
    int k = acl_category_find(c->argv[2]);
    if (k < 0) {
        reply_errorf(c->r, "ERR Unknown category '%.*s'", (int)c->argv[2].len, c->argv[2].p);
        return;
    }
    size_t mark = reply_defer(c->r);
    long n = 0;
    for (int i = 0; i < command_count(); i++) {
        const command_t *cmd = command_at(i);
        if (acl_cmd_in_category(cmd, k)) {
            reply_bulk_cstr(c->r, cmd->name);
            n++;
        }
        int j = 0;
        for (const char *const *s = cmd->subcommands; s && *s; s++, j++) {
            sv_t sub[2] = {{cmd->name, strlen(cmd->name)}, {strchr(*s, '|') + 1, 0}};
            sub[1].len = strlen(sub[1].p);
            if (acl_bit_in_category(acl_cmd_bit(cmd, 2, sub), k)) {
                reply_bulk_cstr(c->r, *s);
                n++;
            }
        }
    }
    reply_defer_set(c->r, mark, '*', n);
}

/* ACL GENPASS [bits] */
static void acl_genpass_cmd(cmd_ctx_t *c)
{
    long long bits = 256;
    if (c->argc == 3 && str_to_ll(c->argv[2].p, c->argv[2].len, &bits) != 0) {
        reply_error(c->r, ERR_NOT_INT);
        return;
    }
    if (bits <= 0 || bits > 4096) {
        reply_error(c->r, "ERR ACL GENPASS argument must be the number of bits for the output "
                          "password, a positive number up to 4096");
        return;
    }
    unsigned char raw[512];
    size_t chars = (size_t)(bits + 3) / 4, nraw = (chars + 1) / 2, got = 0;
    while (got < nraw) {
        ssize_t k = getrandom(raw + got, nraw - got, 0);
        if (k < 0 && errno != EINTR) {
            reply_error(c->r, "ERR could not read random bytes");
            return;
        }
        if (k > 0)
            got += (size_t)k;
    }
    char hex[1025];
    for (size_t i = 0; i < chars; i++)
        hex[i] = "0123456789abcdef"[(raw[i / 2] >> (i % 2 ? 0 : 4)) & 15];
    reply_bulk(c->r, hex, chars);
}

/* ACL LOG [count | RESET] */
static void acl_log_cmd(cmd_ctx_t *c)
{
    long long count = 10;
    if (c->argc == 3) {
        if (sv_eq_ci(c->argv[2], "reset")) {
            acl_log_reset();
            reply_ok(c->r);
            return;
        }
        if (str_to_ll(c->argv[2].p, c->argv[2].len, &count) != 0) {
            reply_error(c->r, ERR_NOT_INT);
            return;
        }
        if (count < 0)
            count = 0;
    }
    acl_log_reply(c->r, (long)count);
}

/* ACL DRYRUN username command [arg ...] */
static void acl_dryrun_cmd(cmd_ctx_t *c)
{
    acl_user_t *u = acl_get(c->argv[2].p, c->argv[2].len);
    if (!u) {
        reply_errorf(c->r, "ERR User '%.*s' not found", (int)c->argv[2].len, c->argv[2].p);
        return;
    }
    const command_t *cmd = command_lookup(c->argv[3]);
    int argc = c->argc - 3;
    const sv_t *argv = c->argv + 3;
    if (!cmd) {
        reply_errorf(c->r, "ERR Command '%.*s' not found", (int)argv[0].len, argv[0].p);
    } else if ((cmd->arity > 0 && argc != cmd->arity) || argc < -cmd->arity) {
        reply_wrong_arity(c->r, cmd->name);
    } else {
        int pos;
        int rc = acl_check(u, cmd, argc, argv, &pos);
        if (rc == ACL_OK) {
            reply_ok(c->r);
        } else {
            buf_t b;
            buf_init(&b);
            if (rc == ACL_DENIED_CMD) {
                const char *sub = argc >= 2 ? command_subcommand_name(cmd, argv[1]) : NULL;
                buf_printf(&b, "This user has no permissions to run the '%s' command",
                           sub ? sub : cmd->name);
            } else {
                buf_printf(&b, "This user has no permissions to access the '%.*s' %s",
                           (int)argv[pos].len, argv[pos].p,
                           rc == ACL_DENIED_KEY ? "key" : "channel");
            }
            reply_buf(c->r, &b);
            buf_free(&b);
        }
    }
    acl_release(u);
}

#define ERR_NO_ACLFILE                                                                         \
    "ERR This Redis instance is not configured to use an ACL file. You may want to specify "  \
    "users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a " \
    "Redis configuration file set) in order to store users in the Redis configuration."

static int aclfile(buf_t *path)
{
    config_format_value(config_lookup("aclfile", 7), path);
    return path->len ? 0 : -1;
}

/* ACL SAVE: every user's line, written to a temporary file renamed over it. */
static void acl_save_cmd(cmd_ctx_t *c)
{
    buf_t path, text;
    buf_init(&path);
    buf_init(&text);
    if (aclfile(&path) != 0) {
        reply_error(c->r, ERR_NO_ACLFILE);
        goto out;
    }
    int n;
    acl_user_t **v = acl_users(&n);
    for (int i = 0; i < n; i++) {
        acl_describe_user(v[i], &text);
        buf_putc(&text, '\n');
        acl_release(v[i]);
    }
    free(v);
    buf_t tmp;
    buf_init(&tmp);
    buf_printf(&tmp, "%s.tmp-%ld", buf_cstr(&path), (long)getpid());
    int fd = open(buf_cstr(&tmp), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ssize_t w = fd >= 0 ? write(fd, text.data, text.len) : -1;
    int ok = fd >= 0 && w == (ssize_t)text.len && fsync(fd) == 0;
    if (fd >= 0)
        close(fd);
    if (ok && rename(buf_cstr(&tmp), buf_cstr(&path)) == 0) {
        reply_ok(c->r);
    } else {
        unlink(buf_cstr(&tmp));
        reply_error(c->r, "ERR There was an error trying to save the ACLs. Please check the "
                          "server logs for more information");
    }
    buf_free(&tmp);
out:
    buf_free(&path);
    buf_free(&text);
}

#define ACLFILE_MAX (64u << 20) /* an ACL file larger than this is refused */

int acl_load_file(buf_t *err)
{
    buf_t path, text;
    buf_init(&path);
    buf_init(&text);
    int rc = -1;
    if (aclfile(&path) != 0) {
        buf_printf(err, "%s", ERR_NO_ACLFILE);
        rc = -2;
        goto out;
    }
    int fd = open(buf_cstr(&path), O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || (uint64_t)st.st_size > ACLFILE_MAX) {
        buf_printf(err, "ERR Error loading ACLs, opening file '%s': %s", buf_cstr(&path),
                   fd < 0 ? strerror(errno) : "too large");
        if (fd >= 0)
            close(fd);
        goto out;
    }
    char chunk[65536];
    ssize_t k;
    while ((k = read(fd, chunk, sizeof chunk)) > 0 && text.len <= ACLFILE_MAX)
        buf_append(&text, chunk, (size_t)k);
    close(fd);
    rc = acl_load_text(buf_cstr(&path), text.data, text.len, err);
out:
    buf_free(&path);
    buf_free(&text);
    return rc;
}

/* ACL LOAD: all or nothing (acl_load_text). */
static void acl_load_cmd(cmd_ctx_t *c)
{
    buf_t err;
    buf_init(&err);
    if (acl_load_file(&err) == 0)
        reply_ok(c->r);
    else
        reply_error(c->r, buf_cstr(&err));
    buf_free(&err);
}

static void acl_help_cmd(cmd_ctx_t *c)
{
    static const char *const help[] = {
        "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CAT [<category>]",
        "    List all commands that belong to <category>, or all command categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]",
        "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]",
        "    Returns whether the user can execute the given command without executing the "
        "command.",
        "GETUSER <username>",
        "    Get the user's details.",
        "GENPASS [<bits>]",
        "    Generate a secure 256-bit user password. The optional `bits` argument can",
        "    be used to specify a different size.",
        "LIST",
        "    Show users details in config file format.",
        "LOAD",
        "    Reload users from the ACL file.",
        "LOG [<count> | RESET]",
        "    Show the ACL log entries.",
        "SAVE",
        "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create or modify a user with the specified attributes.",
        "USERS",
        "    List all the registered usernames.",
        "WHOAMI",
        "    Return the current connection username.",
        "HELP",
        "    Prints this help.",
        NULL,
    };
    reply_help(c->r, help);
}

typedef struct subcmd {
    const char *name;
    cmd_handler *proc;
    int arity;
} subcmd_t;

/* ACL <subcommand> ... */
static void cmd_acl(cmd_ctx_t *c)
{
    static const subcmd_t subs[] = {
        {"setuser", acl_setuser_cmd, -3}, {"getuser", acl_getuser_cmd, 3},
        {"deluser", acl_deluser_cmd, -3}, {"users", acl_users_cmd, 2},
        {"list", acl_list_cmd, 2},        {"whoami", acl_whoami_cmd, 2},
        {"cat", acl_cat_cmd, -2},         {"genpass", acl_genpass_cmd, -2},
        {"log", acl_log_cmd, -2},         {"dryrun", acl_dryrun_cmd, -4},
        {"save", acl_save_cmd, 2},        {"load", acl_load_cmd, 2},
        {"help", acl_help_cmd, 2},        {NULL, NULL, 0},
    };
    for (const subcmd_t *s = subs; s->name; s++) {
        if (!sv_eq_ci(c->argv[1], s->name))
            continue;
        if ((s->arity > 0 && c->argc != s->arity) || (s->arity < 0 && c->argc < -s->arity)) {
            reply_errorf(c->r, "ERR wrong number of arguments for 'acl|%s' command", s->name);
            return;
        }
        if (s->arity == -2 && c->argc > 3) { /* CAT GENPASS LOG take one argument at most */
            reply_errorf(c->r, "ERR unknown subcommand or wrong number of arguments for '%.*s'. "
                               "Try ACL HELP.", (int)c->argv[1].len, c->argv[1].p);
            return;
        }
        s->proc(c);
        return;
    }
    reply_subcommand_error(c, "acl");
}

static const char *const acl_subcommands[] = {
    "acl|cat",  "acl|deluser", "acl|dryrun", "acl|genpass", "acl|getuser", "acl|list", "acl|load",
    "acl|log",  "acl|save",    "acl|setuser", "acl|users",  "acl|whoami",  "acl|help", NULL};

const command_t cmds_acl[] = {
    CMD_ROW("acl", cmd_acl, -2, CMD_INFO_NO_FLAGS | CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE,
        0, 0, 0, "@slow", "server", "6.0.0", "A container for Access List Control commands",
        .subcommands = acl_subcommands, .subcommand_rows = subcmds_acl),
    {0},
};
