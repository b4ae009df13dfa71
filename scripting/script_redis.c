/* The redis table: redis.call/pcall (running a command inside the script's
 * task), error_reply, status_reply, sha1hex, log, setresp, and the no-op
 * replication/debugger calls Redis 7.0 keeps for old scripts.
 *
 * A command from a script runs exactly as from a client, on the same worker
 * and with the partitions the script's task holds, after the checks Redis's
 * scriptCall makes, in its order: arguments, command, arity, noscript,
 * read-only, OOM; then percore's key rule: every key must be one of KEYS
 * (unless allow-undeclared-keys) and in a held partition. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "cmd_util.h"
#include "object.h"
#include "config.h"
#include "log.h"
#include "script_internal.h"
#include "script_ldb.h"
#include "sha1.h"
#include "store.h"

#define REDIS_VERSION_STR "7.0.15"
#define REDIS_VERSION_NUM 0x0007000f


/* An error of redis.call (raised) or redis.pcall (returned). */
static int call_error(lua_State *L, int raise, const char *msg)
{
    conv_push_error(L, msg, strlen(msg));
    return raise ? lua_error(L) : 1;
}

/* ---- key checks --------------------------------------------------------- */

static uint32_t key_hash(sv_t k)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < k.len; i++)
        h = (h ^ (unsigned char)k.p[i]) * 16777619u;
    return h;
}

static int key_declared(lstate_t *ls, script_run_t *run, sv_t key)
{
    if (run->numkeys <= 8) {
        for (int i = 0; i < run->numkeys; i++)
            if (run->keys[i].len == key.len && memcmp(run->keys[i].p, key.p, key.len) == 0)
                return 1;
        return 0;
    }
    size_t cap = 16;
    while (cap < (size_t)run->numkeys * 2)
        cap *= 2;
    if (!run->keyset_ready) {
        if (ls->keyset_cap < cap) {
            free(ls->keyset);
            ls->keyset = xmalloc(cap * sizeof *ls->keyset);
            ls->keyset_cap = cap;
        }
        memset(ls->keyset, 0, cap * sizeof *ls->keyset);
        for (int i = 0; i < run->numkeys; i++) {
            size_t s = key_hash(run->keys[i]) & (cap - 1);
            while (ls->keyset[s])
                s = (s + 1) & (cap - 1);
            ls->keyset[s] = (uint32_t)i + 1;
        }
        run->keyset_ready = 1;
    }
    for (size_t s = key_hash(key) & (cap - 1); ls->keyset[s]; s = (s + 1) & (cap - 1)) {
        sv_t k = run->keys[ls->keyset[s] - 1];
        if (k.len == key.len && memcmp(k.p, key.p, key.len) == 0)
            return 1;
    }
    return 0;
}

static int part_held(lstate_t *ls, script_run_t *run, int part)
{
    const cmd_ctx_t *c = run->c;
    if (run->all_parts)
        return 1;
    if (c->nparts <= 16) {
        for (int i = 0; i < c->nparts; i++)
            if (c->parts[i] == part)
                return 1;
        return 0;
    }
    if (!run->partmap_ready) {
        size_t need = (size_t)store_partitions() / 8 + 1;
        if (ls->partmap_cap < need) {
            free(ls->partmap);
            ls->partmap = xmalloc(need);
            ls->partmap_cap = need;
        }
        memset(ls->partmap, 0, need);
        for (int i = 0; i < c->nparts; i++)
            ls->partmap[c->parts[i] / 8] |= (unsigned char)(1u << (c->parts[i] % 8));
        run->partmap_ready = 1;
    }
    return (ls->partmap[part / 8] >> (part % 8)) & 1;
}

/* The refusal of a call that needs partitions the script may not hold. */
static void undeclared_all(buf_t *err, const command_t *cmd)
{
    err->len = 0;
    buf_printf(err, "ERR script tried accessing undeclared keys (%s needs "
                    "allow-undeclared-keys)", cmd->name);
}

/* 0, or -1 with the error text for the first key the call may not touch. */
static int keys_allowed(lstate_t *ls, script_run_t *run, const command_t *cmd, int argc,
                        sv_t *argv, buf_t *err)
{
    cmd_keys_t keys;
    int global = config_get_int(CFG_ALLOW_UNDECLARED_KEYS);
    if (cmd->flags & CMD_ALLPARTS) {
        if (run->all_parts)
            return 0;
        undeclared_all(err, cmd);
        return -1;
    }
    if (cmd->part_fn) {
        int p = cmd->part_fn(argc, argv);
        if (p >= 0 && !part_held(ls, run, p)) {
            undeclared_all(err, cmd);
            return -1;
        }
        return 0;
    }
    int rc = command_keys(cmd, argc, argv, &keys);
    if (rc == 1 && !run->all_parts) {
        undeclared_all(err, cmd);
        return -1;
    }
    for (int j = 0, n = cmd_keys_count(&keys); j < n; j++) {
        sv_t k = argv[cmd_keys_at(&keys, j)];
        /* A declared key's partition is held: the EVAL's task took them all. */
        if (key_declared(ls, run, k) || (global && part_held(ls, run, store_part_of_key(k))))
            continue;
        err->len = 0;
        buf_printf(err, "ERR script tried accessing undeclared key, key: %.*s",
                   (int)(k.len > 128 ? 128 : k.len), k.p);
        return -1;
    }
    return 0;
}

/* A call refused before its command ran (command_check's refusals, and
 * percore's key rule), msg being Redis's "CODE text". As in Redis it is an
 * error reply for INFO (counted by command_check / command_refused) even when
 * pcall catches it, and its table says so, so that the script's reply does
 * not count it again. */
static int call_rejected(lua_State *L, int raise, lstate_t *ls, const char *msg)
{
    buf_t *e = &ls->nums; /* free again: the arguments are not needed now */
    e->len = 0;
    buf_printf(e, "-%s", msg);
    conv_push_error(L, e->data, e->len);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, CONV_COUNTED_FIELD);
    return raise ? lua_error(L) : 1;
}

static int redis_generic(lua_State *L, int raise)
{
    lstate_t *ls = lstate_of(L);
    script_run_t *run = ls->run;
    int argc = lua_gettop(L);
    if (!run)
        return luaL_error(L, "redis.call/pcall can only be called inside a script invocation");
    if (argc == 0)
        return call_error(L, raise, "Please specify at least one argument for this redis lib call");
    if ((size_t)argc > ls->argv_cap) {
        free(ls->argv);
        ls->argv_cap = (size_t)argc * 2;
        ls->argv = xmalloc(ls->argv_cap * sizeof *ls->argv);
    }
    /* Room for every number's text first, so the views stay put. */
    ls->nums.len = 0;
    buf_reserve(&ls->nums, (size_t)argc * 32);
    sv_t *argv = ls->argv;
    for (int i = 0; i < argc; i++) {
        int t = lua_type(L, i + 1);
        if (t == LUA_TSTRING) {
            argv[i].p = lua_tolstring(L, i + 1, &argv[i].len);
        } else if (t == LUA_TNUMBER) {
            char *dst = ls->nums.data + ls->nums.len;
            argv[i].len = (size_t)conv_number_arg(L, i + 1, dst);
            argv[i].p = dst;
            ls->nums.len += argv[i].len;
        } else {
            return call_error(L, raise,
                              "Lua redis lib command arguments must be strings or integers");
        }
    }
    cmd_ctx_t *c = run->c;
    ldb_log_call(argc, argv); /* a debugging session's trace */
    const command_t *cmd = command_lookup(argv[0]);
    /* Redis's scriptCall order: the command's checks (OOM only until the
     * script's first write: it is not stopped halfway through its writes),
     * then percore's key rule. */
    cmd_caller_t who = {
        .script = 1,
        .script_ro = (unsigned char)run->ro,
        .oom = !run->allow_oom && !run->wrote,
        .parts = c->parts,
        .nparts = c->nparts,
        .worker = c->worker,
        .user = c->user && !acl_fast(c->user) ? c->user : NULL,
        .origin = c->origin,
    };
    if (command_check(&who, cmd, argc, argv, &ls->err) != 0)
        return call_rejected(L, raise, ls, ls->err.data);
    if (keys_allowed(ls, run, cmd, argc, argv, &ls->err) != 0) {
        command_refused(c->worker, cmd, buf_cstr(&ls->err));
        return call_rejected(L, raise, ls, ls->err.data);
    }
    if (cmd->flags & CMD_WRITE) {
        if (engine_mark_write(ls) != 0)
            return engine_raise_killed(L);
        run->wrote = 1;
    }

    ls->reply.len = 0;
    reply_t rr = {.out = &ls->reply, .proto = run->resp, .errors = 0};
    cmd_ctx_t cc = {
        .argc = argc,
        .argv = argv,
        .r = &rr,
        .db = run->db,
        .dbp = &run->db, /* SELECT changes the script's database only */
        .now_ms = c->now_ms, /* one "now" for the whole script, as Redis freezes it */
        .cmd = cmd,
        .worker = c->worker,
        .parts = c->parts,
        .nparts = c->nparts,
        .in_script = 1,
    };
    command_call(&cc, 0);
    ldb_log_reply(ls->reply.data, ls->reply.len);
    c->dirty += cc.dirty;
    run->calls++;
    if (!conv_reply_to_lua(L, ls->reply.data, ls->reply.len))
        return call_error(L, raise, "Error parsing the reply of a command called from script");
    char first = ls->reply.len ? ls->reply.data[0] : 0;
    if (raise && rr.errors && (first == '-' || first == '!'))
        return lua_error(L); /* the {err=...} table just pushed */
    return 1;
}

static int redis_call(lua_State *L) { return redis_generic(L, 1); }
static int redis_pcall(lua_State *L) { return redis_generic(L, 0); }

/* redis.sha1hex(s) */
static int redis_sha1hex(lua_State *L)
{
    if (lua_gettop(L) != 1)
        return script_raise(L, "wrong number of arguments");
    size_t n;
    const char *s = lua_tolstring(L, 1, &n);
    if (!s)
        return script_raise(L, "wrong number of arguments");
    char hex[41];
    sha1_hex(s, n, hex);
    lua_pushlstring(L, hex, 40);
    return 1;
}

/* redis.status_reply(s) -> {ok=s}; redis.error_reply(s) -> {err=...}. A
 * wrong call returns (not raises) an error table, as Redis does. */
static int redis_status_reply(lua_State *L)
{
    if (lua_gettop(L) != 1 || lua_type(L, 1) != LUA_TSTRING) {
        conv_push_error(L, "wrong number or type of arguments", 33);
        return 1;
    }
    lua_createtable(L, 0, 1);
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "ok");
    return 1;
}

static int redis_error_reply(lua_State *L)
{
    if (lua_gettop(L) != 1 || lua_type(L, 1) != LUA_TSTRING) {
        conv_push_error(L, "wrong number or type of arguments", 33);
        return 1;
    }
    size_t n;
    const char *s = lua_tolstring(L, 1, &n);
    if (n && s[0] == '-') {
        conv_push_error(L, s, n);
    } else {
        /* "-" + s: its first word is the code, or ERR when it has no space. */
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        luaL_addchar(&b, '-');
        luaL_addlstring(&b, s, n);
        luaL_pushresult(&b);
        const char *e = lua_tolstring(L, -1, &n);
        conv_push_error(L, e, n);
    }
    return 1;
}

/* redis.log(level, message, ...) */
static int redis_log(lua_State *L)
{
    int argc = lua_gettop(L);
    if (argc < 2)
        return script_raise(L, "redis.log() requires two arguments or more.");
    if (!lua_isinteger(L, 1) && !lua_isnumber(L, 1))
        return script_raise(L, "First argument must be a number (log level).");
    lua_Integer level = lua_tointeger(L, 1);
    if (level < LOG_DEBUG || level > LOG_WARNING)
        return script_raise(L, "Invalid debug level.");
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 2; i <= argc; i++) {
        size_t n;
        const char *s = lua_tolstring(L, i, &n);
        if (!s)
            continue;
        if (i > 2)
            luaL_addchar(&b, ' ');
        luaL_addlstring(&b, s, n);
    }
    luaL_pushresult(&b);
    log_msg((int)level, "%s", lua_tostring(L, -1));
    return 0;
}

/* redis.setresp(2|3): the protocol of the replies redis.call returns. */
static int redis_setresp(lua_State *L)
{
    lstate_t *ls = lstate_of(L);
    if (!ls->run)
        return script_raise(L, "redis.setresp can only be called inside a script invocation");
    if (lua_gettop(L) != 1)
        return script_raise(L, "redis.setresp() requires one argument.");
    lua_Integer v = lua_tointeger(L, 1);
    if (v != 2 && v != 3)
        return script_raise(L, "RESP version must be 2 or 3.");
    ls->run->resp = (int)v;
    return 0;
}

/* Replication and debugger calls: nothing to do here, accepted as Redis 7.0
 * accepts them (scripts replicate by effects, and there is no debugger). */
static int redis_set_repl(lua_State *L)
{
    if (lua_gettop(L) != 1)
        return script_raise(L, "redis.set_repl() requires one argument.");
    lua_Integer f = lua_tointeger(L, 1);
    if (f < 0 || f > 3)
        return script_raise(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL "
                               "or REPL_NONE.");
    return 0;
}

static int redis_true(lua_State *L)
{
    lua_pushboolean(L, 1);
    return 1;
}

/* redis.acl_check_cmd(cmd, ...): there are no ACL users, so a known
 * command is always allowed. */
static int redis_acl_check_cmd(lua_State *L)
{
    size_t n;
    const char *name = lua_gettop(L) >= 1 ? lua_tolstring(L, 1, &n) : NULL;
    if (!name || !command_lookup((sv_t){name, n}))
        return script_raise(L, "Invalid command passed to redis.acl_check_cmd()");
    lua_pushboolean(L, 1);
    return 1;
}

void redislib_push(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"call", redis_call},
        {"pcall", redis_pcall},
        {"sha1hex", redis_sha1hex},
        {"error_reply", redis_error_reply},
        {"status_reply", redis_status_reply},
        {"log", redis_log},
        {"setresp", redis_setresp},
        {"set_repl", redis_set_repl},
        {"replicate_commands", redis_true},
        {"breakpoint", ldb_lua_breakpoint},
        {"debug", ldb_lua_debug},
        {"acl_check_cmd", redis_acl_check_cmd},
        {NULL, NULL},
    };
    static const struct {
        const char *name;
        int v;
    } consts[] = {
        {"LOG_DEBUG", LOG_DEBUG},     {"LOG_VERBOSE", LOG_VERBOSE}, {"LOG_NOTICE", LOG_NOTICE},
        {"LOG_WARNING", LOG_WARNING}, {"REPL_NONE", 0},             {"REPL_AOF", 1},
        {"REPL_SLAVE", 2},            {"REPL_REPLICA", 2},          {"REPL_ALL", 3},
        {"REDIS_VERSION_NUM", REDIS_VERSION_NUM},
    };
    luaL_newlib(L, fns);
    for (size_t i = 0; i < sizeof consts / sizeof *consts; i++) {
        lua_pushinteger(L, consts[i].v);
        lua_setfield(L, -2, consts[i].name);
    }
    lua_pushliteral(L, REDIS_VERSION_STR);
    lua_setfield(L, -2, "REDIS_VERSION");
}
