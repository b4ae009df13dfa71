/* Connection commands, at the connections layer: QUIT RESET HELLO AUTH
 * SELECT CLIENT SHUTDOWN, the handlers that use the issuing client (c->cl:
 * its flags, protocol, name, authentication, shown database) and client.c's
 * registry. Keyless: they run where the client's commands run (its home
 * worker, or under work-stealing the worker serving it). All but SELECT are
 * CMD_HOME; SELECT is here because it publishes the client's shown_db (CLIENT
 * LIST) when c->cl is set, and a script reaches it through the command table
 * like any command. Their rows (cmds_client, cmds_shutdown) are listed by
 * all_commands.c. */
#include <stdatomic.h>
#include <stdio.h>

#include "acl.h"
#include "client.h"
#include "client_multi.h"
#include "cmd_util.h"
#include "command.h"
#include "persist.h"
#include "config.h"
#include "store.h"
#include "worker.h"

/* AUTH, HELLO AUTH and ACL changes swap a client's user snapshot (acl.h). */
void client_set_user(client_t *c, acl_user_t *u)
{
    /* Under the registry lock: CLIENT LIST on another thread reads the name. */
    client_registry_lock();
    acl_user_t *old = c->acl;
    c->acl = u;
    client_registry_unlock();
    acl_release(old);
}

/* QUIT */
static void cmd_quit(cmd_ctx_t *c)
{
    reply_ok(c->r);
    c->cl->flags |= CLIENT_CLOSE_AFTER_REPLY;
}

static void set_proto(client_t *cl, int proto)
{
    cl->proto = proto;
    cl->reply.proto = proto;
    /* A RESP3 client gets its mailbox now: another client's tracking may
     * REDIRECT its invalidations here (pubsub_send_to finds it by id). */
    if (proto == 3)
        client_pubsub_sub(cl);
    if (cl->ps)
        pubsub_sub_set_proto(cl->ps, proto);
    atomic_store_explicit(&cl->shown_resp, proto, memory_order_relaxed);
}

static void set_db(client_t *cl, int db)
{
    cl->db = db;
    atomic_store_explicit(&cl->shown_db, db, memory_order_relaxed);
}

/* RESET */
static void cmd_reset(cmd_ctx_t *c)
{
    client_t *cl = c->cl;
    set_db(cl, 0);
    set_proto(cl, 2);
    client_set_name(cl, NULL, 0);
    client_multi_reset(cl);
    client_unwatch(cl);
    client_pubsub_reset(cl);
    cl->reply_off = cl->reply_skip = cl->reply_skip_next = 0; /* Redis: back to ON */
    client_monitor_stop(cl); /* RESET leaves MONITOR mode, as Redis */
    client_tracking_reset(cl);
    client_set_user(cl, acl_default());
    cl->authenticated = acl_default_nopass();
    reply_status(c->r, "RESET");
}

/* The check both AUTH and HELLO ... AUTH do; replies the error itself. */
static int auth_generic(cmd_ctx_t *c, sv_t user, sv_t pass)
{
    /* The default user is "nopass" while no requirepass is set: any password works. */
    buf_t info;
    buf_init(&info);
    acl_describe(c->cl, &info);
    acl_user_t *u = acl_authenticate(user, pass, buf_cstr(&info));
    buf_free(&info);
    if (!u) {
        reply_error(c->r, "WRONGPASS invalid username-password pair or user is disabled.");
        return -1;
    }
    client_set_user(c->cl, u);
    c->cl->authenticated = 1;
    return 0;
}

/* AUTH [username] password */
static void cmd_auth(cmd_ctx_t *c)
{
    if (c->argc > 3) {
        reply_error(c->r, ERR_SYNTAX);
        return;
    }
    if (c->argc == 2 && acl_default_nopass()) {
        reply_error(c->r, "ERR AUTH <password> called without any password configured for the "
                          "default user. Are you sure your configuration is correct?");
        return;
    }
    sv_t user = c->argc == 3 ? c->argv[1] : SV_LIT("default");
    if (auth_generic(c, user, c->argv[c->argc - 1]) == 0)
        reply_ok(c->r);
}

static int valid_client_name(sv_t n)
{
    for (size_t i = 0; i < n.len; i++)
        if (n.p[i] < '!' || n.p[i] > '~')
            return 0;
    return 1;
}

/* HELLO [protover [AUTH username password] [SETNAME clientname]] */
static void cmd_hello(cmd_ctx_t *c)
{
    client_t *cl = c->cl;
    int proto = cl->proto;
    int i = 1;
    if (c->argc >= 2) {
        long long v;
        if (str_to_ll(c->argv[1].p, c->argv[1].len, &v) != 0) {
            reply_error(c->r, "ERR Protocol version is not an integer or out of range");
            return;
        }
        if (v < 2 || v > 3) {
            reply_error(c->r, "NOPROTO unsupported protocol version");
            return;
        }
        proto = (int)v;
        i = 2;
    }
    sv_t setname = {NULL, 0};
    int has_setname = 0;
    for (; i < c->argc; i++) {
        int more = c->argc - i - 1;
        if (sv_eq_ci(c->argv[i], "AUTH") && more >= 2) {
            if (auth_generic(c, c->argv[i + 1], c->argv[i + 2]) != 0)
                return;
            i += 2;
        } else if (sv_eq_ci(c->argv[i], "SETNAME") && more >= 1) {
            setname = c->argv[i + 1];
            if (!valid_client_name(setname)) {
                reply_error(c->r, "ERR Client names cannot contain spaces, newlines or special "
                                  "characters.");
                return;
            }
            has_setname = 1;
            i += 1;
        } else {
            reply_errorf(c->r, "ERR Syntax error in HELLO option '%.*s'", (int)c->argv[i].len,
                         c->argv[i].p);
            return;
        }
    }
    if (!cl->authenticated) {
        reply_error(c->r, "NOAUTH HELLO must be called with the client already authenticated, "
                          "otherwise the HELLO <proto> AUTH <user> <pass> option can be used to "
                          "authenticate the client and select the RESP protocol version at the "
                          "same time");
        return;
    }
    if (has_setname)
        client_set_name(cl, setname.p, setname.len);
    set_proto(cl, proto);
    reply_map(c->r, 7);
    reply_bulk_cstr(c->r, "server");
    reply_bulk_cstr(c->r, "redis");
    reply_bulk_cstr(c->r, "version");
    reply_bulk_cstr(c->r, REDIS_API_VERSION);
    reply_bulk_cstr(c->r, "proto");
    reply_int(c->r, proto);
    reply_bulk_cstr(c->r, "id");
    reply_int(c->r, (long long)cl->id);
    reply_bulk_cstr(c->r, "mode");
    reply_bulk_cstr(c->r, "standalone");
    reply_bulk_cstr(c->r, "role");
    reply_bulk_cstr(c->r, "master");
    reply_bulk_cstr(c->r, "modules");
    reply_array(c->r, 0);
}

/* SELECT index */
static void cmd_select(cmd_ctx_t *c)
{
    long long db;
    if (str_to_ll(c->argv[1].p, c->argv[1].len, &db) != 0) {
        reply_error(c->r, ERR_NOT_INT);
        return;
    }
    if (db < 0 || db >= store_databases()) {
        reply_error(c->r, "ERR DB index is out of range");
        return;
    }
    /* The caller's database: a client's, or, inside a script, the script's. */
    *c->dbp = (int)db;
    if (c->cl)
        atomic_store_explicit(&c->cl->shown_db, (int)db, memory_order_relaxed);
    reply_ok(c->r);
}

/* SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT] */
static void cmd_shutdown(cmd_ctx_t *c)
{
    int save = -1, force = 0;
    for (int i = 1; i < c->argc; i++) {
        if (sv_eq_ci(c->argv[i], "FORCE"))
            force = 1;
        if (sv_eq_ci(c->argv[i], "NOSAVE"))
            save = 0;
        else if (sv_eq_ci(c->argv[i], "SAVE"))
            save = save == 0 ? 0 : 1;
        if (sv_eq_ci(c->argv[i], "ABORT")) {
            /* Nothing to abort: a shutdown here is immediate. */
            reply_error(c->r, "ERR No shutdown in progress.");
            return;
        }
        if (!sv_eq_ci(c->argv[i], "NOSAVE") && !sv_eq_ci(c->argv[i], "SAVE") &&
            !sv_eq_ci(c->argv[i], "NOW") && !sv_eq_ci(c->argv[i], "FORCE")) {
            reply_error(c->r, ERR_SYNTAX);
            return;
        }
    }
    /* The save (SAVE, or save points without NOSAVE) runs at exit, once no
     * worker runs (persist_at_exit). As Redis, the reply is the closed
     * connection once the server has stopped. */
    if (!force && persist_shutdown_check(save) != 0) {
        reply_error(c->r, "ERR Errors trying to SHUTDOWN. Check logs.");
        return;
    }
    persist_set_shutdown_save(save);
    c->cl->flags |= CLIENT_CLOSE_AFTER_REPLY;
    worker_request_shutdown();
}

/* ---- CLIENT ------------------------------------------------------------ */

static const char *const client_help[] = {
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * ID <client-id>",
    "      Kill connections by client id.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "    * ID <client-id> [<client-id> ...]",
    "      Return clients of specified IDs only.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "HELP",
    "    Print this help.",
    NULL,
};

static const char *const client_subcommands[] = {
    "client|id", "client|setname", "client|getname", "client|info", "client|list",
    "client|kill", "client|unblock", "client|no-evict", "client|reply", "client|pause",
    "client|unpause", "client|help", "client|tracking", "client|caching", "client|getredir",
    "client|trackinginfo", NULL};
static void client_kill_generic(cmd_ctx_t *c)
{
    if (c->argc == 3) {
        /* Old form: CLIENT KILL addr:port, replies OK or an error. */
        char addr[128];
        snprintf(addr, sizeof addr, "%.*s", (int)c->argv[2].len, c->argv[2].p);
        if (client_kill(0, addr, c->cl, 0, CLIENT_TYPE_ANY, NULL) == 0)
            reply_error(c->r, "ERR No such client");
        else
            reply_ok(c->r);
        return;
    }
    uint64_t id = 0;
    char addr[128];
    char user[256];
    int has_addr = 0, has_user = 0, skipme = 1, type = CLIENT_TYPE_ANY;
    if ((c->argc - 2) % 2 != 0) {
        reply_error(c->r, ERR_SYNTAX);
        return;
    }
    for (int i = 2; i < c->argc; i += 2) {
        sv_t opt = c->argv[i], val = c->argv[i + 1];
        long long v;
        if (sv_eq_ci(opt, "ID")) {
            if (str_to_ll(val.p, val.len, &v) != 0 || v <= 0) {
                reply_error(c->r, "ERR client-id should be greater than 0");
                return;
            }
            id = (uint64_t)v;
        } else if (sv_eq_ci(opt, "ADDR")) {
            snprintf(addr, sizeof addr, "%.*s", (int)val.len, val.p);
            has_addr = 1;
        } else if (sv_eq_ci(opt, "USER")) {
            acl_user_t *u = acl_get(val.p, val.len);
            if (!u) {
                reply_errorf(c->r, "ERR No such user '%.*s'", (int)val.len, val.p);
                return;
            }
            snprintf(user, sizeof user, "%s", u->name);
            acl_release(u);
            has_user = 1;
        } else if (sv_eq_ci(opt, "SKIPME")) {
            if (sv_eq_ci(val, "yes"))
                skipme = 1;
            else if (sv_eq_ci(val, "no"))
                skipme = 0;
            else {
                reply_error(c->r, ERR_SYNTAX);
                return;
            }
        } else if (sv_eq_ci(opt, "TYPE")) {
            if (!sv_eq_ci(val, "normal") && !sv_eq_ci(val, "master") &&
                !sv_eq_ci(val, "replica") && !sv_eq_ci(val, "slave") &&
                !sv_eq_ci(val, "pubsub")) {
                reply_errorf(c->r, "ERR Unknown client type '%.*s'", (int)val.len, val.p);
                return;
            }
            type = sv_eq_ci(val, "normal")   ? CLIENT_TYPE_NORMAL
                   : sv_eq_ci(val, "pubsub") ? CLIENT_TYPE_PUBSUB
                                             : CLIENT_TYPE_NONE; /* no masters, no replicas */
        } else {
            reply_error(c->r, ERR_SYNTAX);
            return;
        }
    }
    reply_int(c->r, client_kill(id, has_addr ? addr : NULL, c->cl, skipme, type,
                                has_user ? user : NULL));
}

/* Redis 7.0's admin subcommands of CLIENT (MONITOR does not show them);
 * ID, INFO, SETNAME, GETNAME, REPLY, HELP are not. */
static uint32_t client_flags(int argc, const sv_t *argv)
{
    static const char *const admin[] = {"kill", "list", "pause", "unpause", "no-evict",
                                        "unblock", NULL};
    for (int i = 0; argc > 1 && admin[i]; i++)
        if (sv_eq_ci(argv[1], admin[i]))
            return CMD_ADMIN;
    return 0;
}

/* CLIENT ID | SETNAME name | GETNAME | LIST [TYPE t] [ID id ...] | INFO | KILL ... | HELP */
static void cmd_client(cmd_ctx_t *c)
{
    sv_t sub = c->argv[1];
    client_t *cl = c->cl;
    if (sv_eq_ci(sub, "ID") && c->argc == 2) {
        reply_int(c->r, (long long)cl->id);
    } else if (sv_eq_ci(sub, "SETNAME") && c->argc == 3) {
        if (!valid_client_name(c->argv[2])) {
            reply_error(c->r, "ERR Client names cannot contain spaces, newlines or special "
                              "characters.");
            return;
        }
        client_set_name(cl, c->argv[2].p, c->argv[2].len);
        reply_ok(c->r);
    } else if (sv_eq_ci(sub, "GETNAME") && c->argc == 2) {
        buf_t name;
        buf_init(&name);
        client_get_name(cl, &name);
        if (name.len)
            reply_bulk(c->r, name.data, name.len);
        else
            reply_null(c->r);
        buf_free(&name);
    } else if (sv_eq_ci(sub, "INFO") && c->argc == 2) {
        buf_t line;
        buf_init(&line);
        client_info_line(cl, &line);
        reply_verbatim(c->r, line.data, line.len, "txt");
        buf_free(&line);
    } else if (sv_eq_ci(sub, "LIST")) {
        buf_t out;
        buf_init(&out);
        if (c->argc == 2) {
            client_list(&out, 0, cl, CLIENT_TYPE_ANY);
        } else if (c->argc == 4 && sv_eq_ci(c->argv[2], "TYPE")) {
            sv_t t = c->argv[3];
            if (!sv_eq_ci(t, "normal") && !sv_eq_ci(t, "master") && !sv_eq_ci(t, "replica") &&
                !sv_eq_ci(t, "pubsub")) {
                reply_errorf(c->r, "ERR Unknown client type '%.*s'", (int)t.len, t.p);
                buf_free(&out);
                return;
            }
            client_list(&out, 0, cl,
                        sv_eq_ci(t, "normal")   ? CLIENT_TYPE_NORMAL
                        : sv_eq_ci(t, "pubsub") ? CLIENT_TYPE_PUBSUB
                                                : CLIENT_TYPE_NONE);
        } else if (c->argc >= 4 && sv_eq_ci(c->argv[2], "ID")) {
            for (int i = 3; i < c->argc; i++) {
                long long id;
                if (str_to_ll(c->argv[i].p, c->argv[i].len, &id) != 0 || id <= 0) {
                    reply_error(c->r, "ERR Invalid client ID");
                    buf_free(&out);
                    return;
                }
                client_list(&out, (uint64_t)id, cl, CLIENT_TYPE_ANY);
            }
        } else {
            reply_error(c->r, ERR_SYNTAX);
            buf_free(&out);
            return;
        }
        reply_verbatim(c->r, out.data ? out.data : "", out.len, "txt");
        buf_free(&out);
    } else if (sv_eq_ci(sub, "KILL") && c->argc >= 3) {
        client_kill_generic(c);
    } else if (sv_eq_ci(sub, "NO-EVICT") && c->argc == 3) {
        if (sv_eq_ci(c->argv[2], "ON") || sv_eq_ci(c->argv[2], "OFF")) {
            atomic_store_explicit(&cl->no_evict, sv_eq_ci(c->argv[2], "ON"), memory_order_relaxed);
            reply_ok(c->r);
        } else {
            reply_error(c->r, ERR_SYNTAX);
        }
    } else if (sv_eq_ci(sub, "UNBLOCK") && (c->argc == 3 || c->argc == 4)) {
        long long id;
        int err = 0;
        if (arg_ll(c, 2, &id, NULL) != 0)
            return;
        if (c->argc == 4) {
            if (sv_eq_ci(c->argv[3], "ERROR")) {
                err = 1;
            } else if (!sv_eq_ci(c->argv[3], "TIMEOUT")) {
                reply_error(c->r, "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
                return;
            }
        }
        reply_int(c->r, id > 0 ? client_unblock((uint64_t)id, err) : 0);
    } else if (sv_eq_ci(sub, "PAUSE") && c->argc >= 3) {
        client_pause_command(c);
    } else if (sv_eq_ci(sub, "UNPAUSE") && c->argc == 2) {
        client_unpause_command(c);
    } else if (sv_eq_ci(sub, "REPLY") && c->argc == 3) {
        client_reply_command(c);
    } else if (sv_eq_ci(sub, "HELP") && c->argc == 2) {
        reply_help(c->r, client_help);
    } else if (client_tracking_command(c, sub)) {
        /* TRACKING CACHING GETREDIR TRACKINGINFO: client_tracking.c */
    } else {
        reply_subcommand_error(c, "client");
    }
}

const command_t cmds_client[] = {
    CMD_ROW("quit", cmd_quit, -1,
        CMD_HOME | CMD_NOMULTI | CMD_NOAUTH | CMD_FAST | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE |
            CMD_SUBSCRIBED | CMD_ALLOW_BUSY,
        0, 0, 0, "@fast @connection", "connection", "1.0.0", "Close the connection"),
    CMD_ROW("reset", cmd_reset, 1,
        CMD_HOME | CMD_NOMULTI | CMD_NOAUTH | CMD_FAST | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE |
            CMD_SUBSCRIBED | CMD_ALLOW_BUSY,
        0, 0, 0, "@fast @connection", "connection", "6.2.0", "Reset the connection"),
    CMD_ROW("hello", cmd_hello, -1,
        CMD_HOME | CMD_NOAUTH | CMD_FAST | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_ALLOW_BUSY, 0, 0, 0,
        "@fast @connection", "connection", "6.0.0", "Handshake with Redis"),
    CMD_ROW("auth", cmd_auth, -2,
        CMD_HOME | CMD_NOAUTH | CMD_FAST | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_ALLOW_BUSY, 0, 0, 0,
        "@fast @connection", "connection", "1.0.0", "Authenticate to the server"),
    CMD_ROW("select", cmd_select, 2, CMD_FAST | CMD_LOADING | CMD_STALE, 0, 0, 0,
        "@fast @connection", "connection", "1.0.0",
        "Change the selected database for the current connection"),
    CMD_ROW("client", cmd_client, -2, CMD_INFO_NO_FLAGS | CMD_HOME | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE,
        0, 0, 0, "@slow", "connection", "2.4.0",
        "A container for client connection commands", .subcommands = client_subcommands,
        .flags_fn = client_flags,
        .subcommand_rows = subcmds_client),
    {0},
};

/* Apart from cmds_client only to keep the ids' order (see all_commands.c). */
const command_t cmds_shutdown[] = {
    CMD_ROW("shutdown", cmd_shutdown, -1,
        CMD_HOME | CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_ALLOW_BUSY |
            CMD_REFUSED_IN_MULTI, 0, 0, 0,
        "@admin @slow @dangerous", "server", "1.0.0",
        "Synchronously save the dataset to disk and then shut down the server"),
    {0},
};
