/* Function libraries in a Lua state: FUNCTION LOAD (the "#!lua name=<lib>"
 * first line, the library's code run with only redis.register_function and
 * redis.log, within FUNC_LOAD_MS and memory-limit), FCALL / FCALL_RO, and
 * the validation FUNCTION RESTORE needs. On the thread owning the state.
 *
 * How each worker gets a library: lazily. The registry (script_func.c) is
 * the truth and is updated before LOAD replies; a worker compiles a library
 * into its own state the first time it calls one of its functions (keyed by
 * the library's id), and drops the ones gone when the registry's version
 * moved. A library's load code sees nothing but `redis` (no clock, no
 * random), so every worker gets the same functions; and no worker is
 * interrupted to load libraries it may never call (eager broadcast would
 * make a LOAD wait for every loop, busy scripts included). */
#include <stdlib.h>
#include <string.h>

#include "cmd_util.h"
#include "config.h"
#include "log.h"
#include "object.h"
#include "script_func.h"
#include "util.h"

#define FUNC_LOAD_MS 500 /* Redis 7.0's FUNCTION LOAD timeout */

static char libs_key; /* registry: lib id -> {function name -> callback} */
static char cbs_key;  /* registry, while a library loads: its name -> callback */

/* ---- the first line ---------------------------------------------------------- */

static int name_ok(const char *s, size_t n)
{
    if (!n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_'))
            return 0;
    }
    return 1;
}

#define ERR_NAME_RULES                                                                         \
    "ERR Library names can only contain letters, numbers, or underscores(_) and must be at "  \
    "least one character long"

/* The library's name from "#!lua name=<lib>" (words split on blanks,
 * double quotes removed as Redis's argument splitter does); *skip = where
 * the code after that line starts (at its newline, so that line numbers
 * count the first line). 0, or -1 with Redis's error. */
static int parse_meta(const char *code, size_t len, char **name, size_t *skip, char *err,
                      size_t errlen)
{
    *name = NULL;
    if (len < 2 || code[0] != '#' || code[1] != '!') {
        snprintf(err, errlen, "ERR Missing library metadata");
        return -1;
    }
    const char *nl = memchr(code, '\n', len);
    /* No line, a NUL byte in it, or an unclosed quote: Redis's splitter
     * fails on these alike. */
    if (!nl || memchr(code, '\0', (size_t)(nl - code))) {
        snprintf(err, errlen, "ERR Invalid library metadata");
        return -1;
    }
    *skip = (size_t)(nl - code);
    buf_t w;
    buf_init(&w);
    const char *p = code + 2, *end = nl;
    int first = 1, rc = 0;
    for (;;) {
        /* The engine is what follows "#!" at once ("#! name=x": engine ''). */
        while (!first && p < end &&
               (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\v' || *p == '\f'))
            p++;
        if (p >= end && !first)
            break;
        w.len = 0;
        int inq = 0;
        while (p < end && (inq || !(*p == ' ' || *p == '\t' || *p == '\r' || *p == '\v' ||
                                    *p == '\f'))) {
            if (*p == '"')
                inq = !inq;
            else
                buf_putc(&w, *p);
            p++;
        }
        if (inq) {
            snprintf(err, errlen, "ERR Invalid library metadata");
            rc = -1;
            break;
        }
        if (first) {
            first = 0;
            if (w.len != 3 || strncasecmp(w.data, "lua", 3) != 0) {
                snprintf(err, errlen, "ERR Engine '%.*s' not found", (int)(w.len > 64 ? 64 : w.len),
                         w.len ? w.data : "");
                rc = -1;
                break;
            }
            continue;
        }
        if (w.len >= 5 && memcmp(w.data, "name=", 5) == 0) {
            if (*name) {
                snprintf(err, errlen,
                         "ERR Invalid metadata value, name argument was given multiple times");
                rc = -1;
                break;
            }
            if (!name_ok(w.data + 5, w.len - 5)) {
                snprintf(err, errlen, "%s", ERR_NAME_RULES);
                rc = -1;
                break;
            }
            *name = xstrndup(w.data + 5, w.len - 5);
            continue;
        }
        snprintf(err, errlen, "ERR Invalid metadata value given: %.*s",
                 (int)(w.len > 128 ? 128 : w.len), w.len ? w.data : "");
        rc = -1;
        break;
    }
    buf_free(&w);
    if (rc == 0 && !*name) {
        snprintf(err, errlen, "ERR Library name was not given");
        rc = -1;
    }
    if (rc == 0 && !name_ok(*name, strlen(*name))) {
        snprintf(err, errlen, "%s", ERR_NAME_RULES);
        rc = -1;
    }
    if (rc != 0) {
        free(*name);
        *name = NULL;
    }
    return rc;
}

/* ---- redis.register_function --------------------------------------------------- */

typedef struct lib_build {
    flib_t *lib;
    size_t bytes; /* what flib_bytes would say so far */
} lib_build_t;

static int flag_of(lua_State *L, int idx)
{
    static const struct {
        const char *name;
        int flag;
    } known[] = {{"no-writes", SF_NO_WRITES},
                 {"allow-oom", SF_ALLOW_OOM},
                 {"allow-stale", SF_ALLOW_STALE},
                 {"no-cluster", SF_NO_CLUSTER},
                 {"allow-cross-slot-keys", SF_ALLOW_CROSS_SLOT}};
    if (lua_type(L, idx) != LUA_TSTRING)
        return 0;
    const char *s = lua_tostring(L, idx);
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (strcmp(s, known[i].name) == 0)
            return known[i].flag;
    return 0;
}

/* name at idx: a string or a number (Lua converts it), as Redis accepts. */
static const char *name_at(lua_State *L, int idx, size_t *n)
{
    int t = lua_type(L, idx);
    if (t != LUA_TSTRING && t != LUA_TNUMBER)
        return NULL;
    lua_pushvalue(L, idx);
    const char *s = lua_tolstring(L, -1, n);
    lua_replace(L, idx);
    return s;
}

static int register_function(lua_State *L)
{
    lstate_t *ls = lstate_of(L);
    lib_build_t *b = ls->loading;
    if (!b || ls->run)
        return script_raise(L, "redis.register_function can only be called on FUNCTION LOAD "
                               "command");
    int argc = lua_gettop(L), flags = 0, fn_idx, desc_idx = 0;
    const char *name;
    size_t nlen = 0;
    if (argc == 1) {
        if (lua_type(L, 1) != LUA_TTABLE)
            return script_raise(L, "calling redis.register_function with a single argument is "
                                   "only applicable to Lua table (representing named arguments).");
        lua_settop(L, 1);
        lua_pushnil(L); /* 2: name, 3: callback, 4: description */
        lua_pushnil(L);
        lua_pushnil(L);
        lua_pushnil(L); /* 5: key */
        while (lua_next(L, 1)) {
            const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
            if (!k)
                return script_raise(L, "named argument key given to redis.register_function "
                                       "is not a string");
            if (strcmp(k, "function_name") == 0) {
                if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
                    return script_raise(L, "function_name argument given to "
                                           "redis.register_function must be a string");
                lua_replace(L, 2);
            } else if (strcmp(k, "callback") == 0) {
                if (lua_type(L, -1) != LUA_TFUNCTION)
                    return script_raise(L, "callback argument given to redis.register_function "
                                           "must be a function");
                lua_replace(L, 3);
            } else if (strcmp(k, "description") == 0) {
                if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
                    return script_raise(L, "description argument given to "
                                           "redis.register_function must be a string");
                lua_replace(L, 4);
            } else if (strcmp(k, "flags") == 0) {
                if (lua_type(L, -1) != LUA_TTABLE)
                    return script_raise(L, "flags argument to redis.register_function must be "
                                           "a table representing function flags");
                for (lua_Integer i = 1;; i++) {
                    if (lua_rawgeti(L, -1, i) == LUA_TNIL) {
                        lua_pop(L, 1);
                        break;
                    }
                    int f = flag_of(L, -1);
                    if (!f)
                        return script_raise(L, "unknown flag given");
                    flags |= f;
                    lua_pop(L, 1);
                }
                lua_pop(L, 1);
            } else {
                return script_raise(L, "unknown argument given to redis.register_function");
            }
        }
        if (lua_isnil(L, 2))
            return script_raise(L, "redis.register_function must get a function name argument");
        if (lua_isnil(L, 3))
            return script_raise(L, "redis.register_function must get a callback argument");
        name = name_at(L, 2, &nlen);
        fn_idx = 3;
        if (!lua_isnil(L, 4)) {
            size_t dl;
            name_at(L, 4, &dl);
            desc_idx = 4;
        }
    } else if (argc == 2) {
        name = name_at(L, 1, &nlen);
        if (!name)
            return script_raise(L, "first argument to redis.register_function must be a string");
        if (lua_type(L, 2) != LUA_TFUNCTION)
            return script_raise(L, "second argument to redis.register_function must be a "
                                   "function");
        fn_idx = 2;
    } else {
        return script_raise(L, "wrong number of arguments to redis.register_function");
    }
    if (!name_ok(name, nlen))
        return script_raise(L, ERR_NAME_RULES + 4);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &cbs_key);
    int cbs = lua_gettop(L);
    lua_pushlstring(L, name, nlen);
    if (lua_rawget(L, cbs) != LUA_TNIL)
        return script_raise(L, "Function already exists in the library");
    lua_pop(L, 1);
    size_t dlen = desc_idx ? lua_rawlen(L, desc_idx) : 0;
    size_t more = FUNC_FN_OVERHEAD + nlen + dlen;
    if (b->bytes + more > FUNC_MAX_BYTES)
        return script_raise(L, "the library takes more than percore's limit on function "
                               "libraries (FUNC_MAX_BYTES, 16 MB)");
    flib_t *l = b->lib;
    ffunc_t *nf = realloc(l->funcs, (size_t)(l->nfuncs + 1) * sizeof *l->funcs);
    if (!nf)
        return engine_raise_nomem(L);
    l->funcs = nf;
    nf[l->nfuncs].name = xstrndup(name, nlen);
    nf[l->nfuncs].desc = desc_idx ? xstrndup(lua_tostring(L, desc_idx), dlen) : NULL;
    nf[l->nfuncs].flags = flags;
    l->nfuncs++;
    b->bytes += more;
    lua_pushlstring(L, name, nlen);
    lua_pushvalue(L, fn_idx);
    lua_rawset(L, cbs);
    return 0;
}

static int load_log(lua_State *L)
{
    /* redis.log, the same function the runtime redis table has. */
    lua_getglobal(L, "redis");
    lua_getfield(L, -1, "log");
    lua_insert(L, 1);
    lua_pop(L, 1);
    lua_call(L, lua_gettop(L) - 1, 0);
    return 0;
}

static const luaL_Reg load_api[] = {
    {"register_function", register_function},
    {"log", load_log},
    {NULL, NULL},
};

/* ---- building a library ----------------------------------------------------------- */

/* The text of a load error (table {err=} or a string) on top of the stack. */
static void load_error_text(lua_State *L, int st, char *err, size_t errlen)
{
    if (st == LUA_ERRMEM) {
        snprintf(err, errlen, "ERR Error registering functions: not enough memory");
        return;
    }
    const char *msg = NULL;
    if (lua_type(L, -1) == LUA_TTABLE) {
        lua_getfield(L, -1, "err");
        msg = lua_tostring(L, -1);
        snprintf(err, errlen, "ERR Error registering functions: %.400s", msg ? msg : "ERR ?");
        lua_pop(L, 1);
    } else {
        msg = lua_tostring(L, -1);
        snprintf(err, errlen, "ERR Error registering functions: ERR %.400s", msg ? msg : "?");
    }
}

/* Run a library's code in ls's state. On success *out holds the library
 * (name, code copy, functions) and, when keep, its name -> callback table
 * is left on the stack. 0, or -1 with Redis's error in err. */
static int lib_build(lstate_t *ls, const char *code, size_t len, flib_t **out, int keep,
                     char *err, size_t errlen)
{
    lua_State *L = ls->L;
    int top = lua_gettop(L);
    char *name;
    size_t skip;
    *out = NULL;
    if (parse_meta(code, len, &name, &skip, err, errlen) != 0)
        return -1;
    flib_t *l = xcalloc(1, sizeof *l);
    l->name = name;
    ls->limit = config_get_u64(CFG_MEMORY_LIMIT);
    ls->limit_base = ls->mem;
    ls->limit_on = 1;
    int st = luaL_loadbufferx(L, code + skip, len - skip, "@user_function", "t");
    ls->limit_on = 0;
    if (st != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        snprintf(err, errlen, "ERR Error compiling function: %.400s", msg ? msg : "?");
        lua_settop(L, top);
        flib_free(l);
        return -1;
    }
    int chunk = lua_gettop(L);
    sandbox_push_load_env(L, load_api);
    if (!lua_setupvalue(L, chunk, 1))
        lua_pop(L, 1);
    lua_newtable(L);
    int cbs = lua_gettop(L);
    lua_pushvalue(L, cbs);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &cbs_key);
    lib_build_t b = {.lib = l, .bytes = FUNC_LIB_OVERHEAD + len + strlen(name)};
    lua_pushvalue(L, chunk);
    ls->loading = &b;
    ls->killed = 0;
    ls->refuse = 0;
    ls->load_deadline_us = mono_us() + FUNC_LOAD_MS * 1000;
    lua_sethook(L, engine_hook, LUA_MASKCOUNT, HOOK_COUNT);
    ls->limit_base = ls->mem;
    ls->limit_on = 1;
    st = lua_pcall(L, 0, 0, 0);
    ls->limit_on = 0;
    lua_sethook(L, NULL, 0, 0);
    ls->load_deadline_us = 0;
    ls->loading = NULL;
    lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &cbs_key);
    if (st != LUA_OK) {
        load_error_text(L, st, err, errlen);
        lua_settop(L, top);
        flib_free(l);
        return -1;
    }
    if (l->nfuncs == 0) {
        snprintf(err, errlen, "ERR No functions registered");
        lua_settop(L, top);
        flib_free(l);
        return -1;
    }
    /* From now on the callbacks (sharing the chunk's _ENV) see the runtime
     * globals, full redis API included. */
    sandbox_push_env(L);
    if (!lua_setupvalue(L, chunk, 1))
        lua_pop(L, 1);
    l->code = xmalloc(len + 1);
    memcpy(l->code, code, len);
    l->code[len] = '\0';
    l->code_len = len;
    if (keep) {
        lua_pushvalue(L, cbs);
        lua_replace(L, top + 1);
        lua_settop(L, top + 1);
    } else {
        lua_settop(L, top);
    }
    *out = l;
    return 0;
}

void function_load(cmd_ctx_t *c, sv_t code, int replace)
{
    lstate_t *ls = engine_state();
    if (ls->run) { /* from the busy callback: this state is in use */
        reply_error(c->r, script_busy_error());
        return;
    }
    char err[512], *name;
    size_t skip;
    if (parse_meta(code.p, code.len, &name, &skip, err, sizeof err) != 0) {
        reply_error(c->r, err);
        return;
    }
    int exists = func_registry_has_lib(name);
    if (exists && !replace) {
        reply_errorf(c->r, "ERR Library '%s' already exists", name);
        free(name);
        return;
    }
    free(name);
    if (code.len > FUNC_MAX_BYTES) {
        reply_errorf(c->r, "ERR the library's code is %zu bytes, more than percore's limit on "
                           "function libraries (%d bytes)", code.len, FUNC_MAX_BYTES);
        return;
    }
    flib_t *l;
    if (lib_build(ls, code.p, code.len, &l, 0, err, sizeof err) != 0 ||
        func_registry_add(&l, 1, replace ? FUNC_POLICY_REPLACE : FUNC_POLICY_APPEND, err,
                          sizeof err) != 0) {
        flib_free(l);
        reply_error(c->r, err);
        return;
    }
    lua_gc(ls->L, LUA_GCCOLLECT);
    /* l belongs to the registry now: its name is answered from the code. */
    if (parse_meta(code.p, code.len, &name, &skip, err, sizeof err) == 0) {
        reply_bulk_cstr(c->r, name);
        free(name);
    }
    c->dirty++;
}

int function_restore(const sv_t *codes, int n, int policy, char *err, size_t errlen)
{
    lstate_t *ls = engine_state();
    if (ls->run) {
        snprintf(err, errlen, "%s", script_busy_error());
        return -1;
    }
    flib_t **add = xcalloc((size_t)(n ? n : 1), sizeof *add);
    int rc = 0;
    size_t total = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        total += codes[i].len;
        if (total > FUNC_MAX_BYTES) {
            snprintf(err, errlen, "ERR the libraries' code is more than percore's limit on "
                                  "function libraries (%d bytes)", FUNC_MAX_BYTES);
            rc = -1;
        } else {
            rc = lib_build(ls, codes[i].p, codes[i].len, &add[i], 0, err, errlen);
        }
    }
    if (rc == 0)
        rc = func_registry_add(add, n, policy, err, errlen);
    for (int i = 0; i < n; i++)
        flib_free(add[i]);
    free(add);
    lua_gc(ls->L, LUA_GCCOLLECT);
    return rc;
}

/* ---- FCALL ------------------------------------------------------------------------ */

/* Drop the libraries this state compiled that the registry no longer has. */
static void purge_libs(lstate_t *ls)
{
    uint64_t v = func_registry_version();
    if (ls->fn_version == v)
        return;
    ls->fn_version = v;
    lua_State *L = ls->L;
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &libs_key) != LUA_TTABLE) {
        lua_pop(L, 1);
        return;
    }
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        if (!func_registry_has_id((uint64_t)lua_tointeger(L, -1))) {
            lua_pushvalue(L, -1);
            lua_pushnil(L);
            lua_rawset(L, -4); /* clearing a field during lua_next is allowed */
        }
    }
    lua_pop(L, 1);
}

/* Push the callback of function ref->name, compiling its library into this
 * state first if needed. 0, or -1 with the error replied. */
static int push_callback(lstate_t *ls, const func_ref_t *ref, reply_t *r)
{
    lua_State *L = ls->L;
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &libs_key) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &libs_key);
    }
    if (lua_rawgeti(L, -1, (lua_Integer)ref->lib_id) != LUA_TTABLE) {
        lua_pop(L, 1);
        char err[512];
        flib_t *l = NULL;
        if (!func_registry_code_of(ref->lib_id, &ls->reply)) {
            lua_pop(L, 1);
            reply_error(r, "ERR Function not found");
            return -1;
        }
        if (lib_build(ls, ls->reply.data, ls->reply.len, &l, 1, err, sizeof err) != 0) {
            lua_pop(L, 1);
            reply_error(r, err);
            return -1;
        }
        flib_free(l);
        lua_pushvalue(L, -1);
        lua_rawseti(L, -3, (lua_Integer)ref->lib_id);
    }
    lua_getfield(L, -1, ref->name);
    lua_remove(L, -2);
    lua_remove(L, -2);
    if (lua_type(L, -1) != LUA_TFUNCTION) {
        lua_pop(L, 1);
        reply_error(r, "ERR Function not found");
        return -1;
    }
    return 0;
}

static void push_strings(lua_State *L, const sv_t *v, int n)
{
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushlstring(L, v[i].p, v[i].len);
        lua_rawseti(L, -2, i + 1);
    }
}

void script_fcall(cmd_ctx_t *c, int ro)
{
    long long numkeys;
    if (str_to_ll(c->argv[2].p, c->argv[2].len, &numkeys) != 0) {
        reply_error(c->r, "ERR Bad number of keys provided");
        return;
    }
    if (numkeys > c->argc - 3) {
        reply_error(c->r, "ERR Number of keys can't be greater than number of args");
        return;
    }
    if (numkeys < 0) {
        reply_error(c->r, "ERR Number of keys can't be negative");
        return;
    }
    lstate_t *ls = engine_state();
    if (ls->run) { /* reached from the busy callback: never nested */
        reply_error(c->r, script_busy_error());
        return;
    }
    func_ref_t ref;
    if (!func_registry_lookup(c->argv[1], &ref)) {
        reply_error(c->r, "ERR Function not found");
        return;
    }
    lua_State *L = ls->L;
    int top = lua_gettop(L);
    if (ro && !(ref.flags & SF_NO_WRITES)) {
        reply_error(c->r, "ERR Can not execute a script with write flag using *_ro command.");
    } else if (!(ref.flags & (SF_ALLOW_OOM | SF_NO_WRITES)) &&
               command_no_room(c->parts, c->nparts)) {
        reply_error(c->r, "OOM allow-oom flag is not set on the script, can not run it when used "
                          "memory > 'maxmemory'");
    } else {
        purge_libs(ls);
        if (push_callback(ls, &ref, c->r) == 0) {
            int fidx = lua_gettop(L);
            push_strings(L, c->argv + 3, (int)numkeys);
            push_strings(L, c->argv + 3 + numkeys, c->argc - 3 - (int)numkeys);
            /* Functions have no KEYS / ARGV globals (an EVAL's would show). */
            lua_pushnil(L);
            sandbox_set_global(L, "KEYS");
            lua_pushnil(L);
            sandbox_set_global(L, "ARGV");
            script_run_t rn = {
                .c = c,
                .ro = ro || (ref.flags & SF_NO_WRITES),
                .allow_oom = (ref.flags & (SF_ALLOW_OOM | SF_NO_WRITES)) != 0,
                .resp = 2,
                .db = c->db,
                .numkeys = (int)numkeys,
                .keys = c->argv + 3,
                .all_parts = c->nparts > 0 && c->nparts >= store_partitions(),
                .fname = ref.name,
            };
            engine_run(ls, c, &rn, fidx, 2);
        }
    }
    lua_settop(L, top);
    free(ref.name);
}
