/* The sandbox a script runs in, as Redis's Lua API reference describes it:
 *
 * - Libraries: base (without dofile, loadfile, print, warn), table, string,
 *   math, coroutine, os reduced to os.clock and os.time, bit, cjson
 *   (script_cjson.c), cmsgpack, redis.
 *   No io, package/require or debug. `load` and the Lua 5.1 `loadstring`
 *   take text only, so no bytecode ever runs.
 * - Lua 5.1 names common scripts use: unpack, loadstring, table.getn,
 *   table.maxn, math.mod, math.pow, math.log10, math.ldexp, math.frexp, ...
 * - Read-only tables: the globals, every library, and the string metatable.
 *   Stock Lua 5.4 has no read-only tables, so each is an empty proxy whose
 *   metatable reads from the real table (never reachable from a script) and
 *   refuses writes; rawset and setmetatable refuse the proxies, and pairs()
 *   walks the real table without handing it out. Writing a global is
 *   "Attempt to modify a readonly table", reading an undefined one is
 *   "Script attempted to access nonexistent global variable 'x'" (Redis 7.0's
 *   texts).
 *
 * Chunks get the globals proxy as their _ENV (it replaces the registry's
 * globals table, which load() uses too). */
#include <math.h>
#include <string.h>

#include <lualib.h>

#include "script_internal.h"

static char ro_set_key;   /* registry[&ro_set_key]: proxy -> true */
static char real_g_key;   /* registry[&real_g_key]: the real globals table */

/* ---- errors raised at the script's line -------------------------------- */

static int error_at_caller(lua_State *L, const char *msg)
{
    luaL_where(L, 1); /* level 1: the script's line that called us */
    lua_pushstring(L, msg);
    lua_concat(L, 2);
    return lua_error(L);
}

static int ro_newindex(lua_State *L)
{
    return error_at_caller(L, "Attempt to modify a readonly table");
}

static int g_missing(lua_State *L)
{
    const char *name = lua_type(L, 2) == LUA_TSTRING || lua_type(L, 2) == LUA_TNUMBER
                           ? lua_tostring(L, 2)
                           : luaL_typename(L, 2);
    luaL_where(L, 1);
    lua_pushfstring(L, "Script attempted to access nonexistent global variable '%s'", name);
    lua_concat(L, 2);
    return lua_error(L);
}

/* ---- read-only proxies -------------------------------------------------- */

static int is_readonly(lua_State *L, int idx)
{
    if (lua_type(L, idx) != LUA_TTABLE)
        return 0;
    idx = lua_absindex(L, idx);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &ro_set_key);
    lua_pushvalue(L, idx);
    int ro = lua_rawget(L, -2) != LUA_TNIL;
    lua_pop(L, 2);
    return ro;
}

/* pairs() of a proxy: an iterator closing over the real table. */
static int ro_next(lua_State *L)
{
    lua_settop(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 2);
    if (lua_next(L, -2))
        return 2;
    lua_pushnil(L);
    return 1;
}

static int ro_pairs(lua_State *L)
{
    lua_getmetatable(L, 1);
    lua_getfield(L, -1, "__index");
    lua_pushcclosure(L, ro_next, 1);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

static int ro_len(lua_State *L)
{
    lua_getmetatable(L, 1);
    lua_getfield(L, -1, "__index");
    lua_pushinteger(L, (lua_Integer)lua_rawlen(L, -1));
    return 1;
}

/* The proxy every proxy's getmetatable() returns: read-only, empty. */
static char locked_key;

static void mark_readonly(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &ro_set_key);
    lua_pushvalue(L, idx);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

/* Replace the table on top of the stack by its read-only proxy. */
static void make_readonly(lua_State *L)
{
    lua_newtable(L);                 /* real, proxy */
    lua_createtable(L, 0, 5);        /* real, proxy, mt */
    lua_pushvalue(L, -3);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, ro_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, ro_pairs);
    lua_setfield(L, -2, "__pairs");
    lua_pushcfunction(L, ro_len);
    lua_setfield(L, -2, "__len");
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &locked_key) == LUA_TNIL) {
        lua_pop(L, 1);
        lua_pushboolean(L, 0);
    }
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);         /* real, proxy */
    lua_remove(L, -2);
    mark_readonly(L, -1);
}

static void readonly_global(lua_State *L, const char *name)
{
    if (lua_getglobal(L, name) == LUA_TTABLE) {
        make_readonly(L);
        lua_setglobal(L, name);
    } else {
        lua_pop(L, 1);
    }
}

/* ---- base library wrappers ------------------------------------------------ */

/* The wrapped function (upvalue 1) called with this call's arguments; its
 * first result. */
static int call_original(lua_State *L)
{
    int n = lua_gettop(L);

    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, 1);
    return 1;
}

/* setmetatable, refusing the read-only proxies, and refusing __gc: a
 * finalizer would run later, in some other script or outside any script
 * (past the time limit's hook). Lua looks __gc up raw, and only when the
 * metatable is set, so checking here is enough. */
static int safe_setmetatable(lua_State *L)
{
    if (is_readonly(L, 1))
        return error_at_caller(L, "Attempt to modify a readonly table");
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        int has_gc = lua_rawget(L, 2) != LUA_TNIL;
        lua_pop(L, 1);
        if (has_gc)
            return error_at_caller(L, "__gc metamethods are not allowed in scripts");
    }
    return call_original(L);
}

static int safe_rawset(lua_State *L)
{
    if (is_readonly(L, 1))
        return error_at_caller(L, "Attempt to modify a readonly table");
    return call_original(L);
}

/* load(chunk [, chunkname [, mode [, env]]]): the mode is always "t". */
static int safe_load(lua_State *L)
{
    int env = lua_gettop(L) >= 4; /* an explicit env, even nil, is kept */
    luaL_checkany(L, 1);
    lua_settop(L, 4);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_pushliteral(L, "t");
    if (env)
        lua_pushvalue(L, 4);
    lua_call(L, env ? 4 : 3, LUA_MULTRET);
    return lua_gettop(L) - 4;
}

/* Lua 5.1's loadstring(s [, chunkname]): text only. */
static int safe_loadstring(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    const char *name = luaL_optstring(L, 2, s);
    int st = luaL_loadbufferx(L, s, len, name, "t");
    if (st == LUA_OK)
        return 1;
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
}

/* ---- Lua 5.1 names -------------------------------------------------------- */

static int compat_getn(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_pushinteger(L, luaL_len(L, 1));
    return 1;
}

static int compat_maxn(lua_State *L)
{
    lua_Number max = 0;
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TNUMBER) {
            lua_Number v = lua_tonumber(L, -1);
            if (v > max)
                max = v;
        }
    }
    lua_pushnumber(L, max);
    return 1;
}

static int compat_pow(lua_State *L)
{
    lua_pushnumber(L, pow(luaL_checknumber(L, 1), luaL_checknumber(L, 2)));
    return 1;
}
static int compat_fmod(lua_State *L)
{
    lua_pushnumber(L, fmod(luaL_checknumber(L, 1), luaL_checknumber(L, 2)));
    return 1;
}
static int compat_log10(lua_State *L)
{
    lua_pushnumber(L, log10(luaL_checknumber(L, 1)));
    return 1;
}
static int compat_ldexp(lua_State *L)
{
    lua_pushnumber(L, ldexp(luaL_checknumber(L, 1), (int)luaL_checkinteger(L, 2)));
    return 1;
}
static int compat_frexp(lua_State *L)
{
    int e;
    lua_pushnumber(L, frexp(luaL_checknumber(L, 1), &e));
    lua_pushinteger(L, e);
    return 2;
}
static int compat_cosh(lua_State *L)
{
    lua_pushnumber(L, cosh(luaL_checknumber(L, 1)));
    return 1;
}
static int compat_sinh(lua_State *L)
{
    lua_pushnumber(L, sinh(luaL_checknumber(L, 1)));
    return 1;
}
static int compat_tanh(lua_State *L)
{
    lua_pushnumber(L, tanh(luaL_checknumber(L, 1)));
    return 1;
}
static int compat_atan2(lua_State *L)
{
    lua_pushnumber(L, atan2(luaL_checknumber(L, 1), luaL_checknumber(L, 2)));
    return 1;
}

/* Set t[name] = fn in the table on top of the stack unless it has one. */
static void add_missing(lua_State *L, const char *name, lua_CFunction fn)
{
    if (lua_getfield(L, -1, name) == LUA_TNIL) {
        lua_pushcfunction(L, fn);
        lua_setfield(L, -3, name);
    }
    lua_pop(L, 1);
}

static void open_compat(lua_State *L)
{
    lua_getglobal(L, "table");
    add_missing(L, "getn", compat_getn);
    add_missing(L, "maxn", compat_maxn);
    lua_getfield(L, -1, "unpack");
    lua_setglobal(L, "unpack");
    lua_pop(L, 1);
    lua_getglobal(L, "math");
    add_missing(L, "pow", compat_pow);
    add_missing(L, "mod", compat_fmod);
    add_missing(L, "log10", compat_log10);
    add_missing(L, "ldexp", compat_ldexp);
    add_missing(L, "frexp", compat_frexp);
    add_missing(L, "cosh", compat_cosh);
    add_missing(L, "sinh", compat_sinh);
    add_missing(L, "tanh", compat_tanh);
    add_missing(L, "atan2", compat_atan2);
    lua_pop(L, 1);
    lua_pushcfunction(L, safe_loadstring);
    lua_setglobal(L, "loadstring");
}

/* ---- putting it together -------------------------------------------------- */

static void wrap_global(lua_State *L, const char *name, lua_CFunction fn)
{
    lua_getglobal(L, name);
    lua_pushcclosure(L, fn, 1);
    lua_setglobal(L, name);
}

static void remove_global(lua_State *L, const char *name)
{
    lua_pushnil(L);
    lua_setglobal(L, name);
}

void sandbox_open(lua_State *L)
{
    static const luaL_Reg libs[] = {
        {LUA_GNAME, luaopen_base},        {LUA_TABLIBNAME, luaopen_table},
        {LUA_STRLIBNAME, luaopen_string}, {LUA_MATHLIBNAME, luaopen_math},
        {LUA_COLIBNAME, luaopen_coroutine}, {NULL, NULL},
    };
    lua_newtable(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &ro_set_key);
    for (const luaL_Reg *l = libs; l->name; l++) {
        luaL_requiref(L, l->name, l->func, 1);
        lua_pop(L, 1);
    }
    /* Pattern functions the kill check reaches (script_pattern.c). */
    lua_getglobal(L, LUA_STRLIBNAME);
    patternlib_install(L, -1);
    lua_pop(L, 1);
    /* os: the clock and the time, nothing that touches the system. */
    luaL_requiref(L, LUA_OSLIBNAME, luaopen_os, 0);
    lua_createtable(L, 0, 2);
    lua_getfield(L, -2, "clock");
    lua_setfield(L, -2, "clock");
    lua_getfield(L, -2, "time");
    lua_setfield(L, -2, "time");
    lua_setglobal(L, LUA_OSLIBNAME);
    lua_pop(L, 1);
    bitlib_push(L);
    lua_setglobal(L, "bit");
    msgpacklib_push(L);
    lua_setglobal(L, "cmsgpack");
    cjsonlib_open(L);
    redislib_push(L);
    lua_setglobal(L, "redis");
    open_compat(L);
    remove_global(L, "dofile");
    remove_global(L, "loadfile");
    remove_global(L, "print");
    remove_global(L, "warn");
    wrap_global(L, "load", safe_load);
    wrap_global(L, "setmetatable", safe_setmetatable);
    wrap_global(L, "rawset", safe_rawset);

    /* The locked table every proxy shows as its metatable. */
    lua_newtable(L);
    make_readonly(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &locked_key);

    static const char *const ro_libs[] = {"string", "table", "math",     "coroutine", "os",
                                          "bit",    "cjson", "cmsgpack", "redis",     NULL};
    for (const char *const *n = ro_libs; *n; n++)
        readonly_global(L, *n);
    /* Strings' metatable: methods through the read-only string proxy, and
     * getmetatable("") shows a read-only view. */
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    lua_getglobal(L, "string");
    lua_setfield(L, -2, "__index");
    lua_pushvalue(L, -1);
    make_readonly(L);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);

    /* The globals: the real table keeps every name (and KEYS, ARGV); scripts
     * and load() see its proxy, which errors on unknown names. */
    lua_pushglobaltable(L);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &real_g_key);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, g_missing);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    make_readonly(L);                                   /* proxy */
    lua_rawgetp(L, LUA_REGISTRYINDEX, &real_g_key);
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, LUA_GNAME);                     /* real._G = proxy */
    lua_pop(L, 1);
    lua_rawseti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
}

void sandbox_set_global(lua_State *L, const char *name)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &real_g_key);
    lua_insert(L, -2);
    lua_setfield(L, -2, name);
    lua_pop(L, 1);
}

void sandbox_push_env(lua_State *L) { lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS); }

/* FUNCTION LOAD's environment: a read-only globals table holding only
 * `redis`, itself a read-only table of the load-time API (the functions in
 * lib plus the LOG_* and version constants); any other name is
 * "Script attempted to access nonexistent global variable". Built once per
 * state and kept in the registry. */
static char load_env_key;

void sandbox_push_load_env(lua_State *L, const luaL_Reg *lib)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &load_env_key) == LUA_TTABLE)
        return;
    lua_pop(L, 1);
    lua_newtable(L);                         /* env */
    lua_newtable(L);                         /* env, api */
    luaL_setfuncs(L, lib, 0);
    /* The constants, copied from the runtime redis table. */
    static const char *const consts[] = {"LOG_DEBUG",     "LOG_VERBOSE",       "LOG_NOTICE",
                                         "LOG_WARNING",   "REDIS_VERSION",     "REDIS_VERSION_NUM"};
    lua_rawgetp(L, LUA_REGISTRYINDEX, &real_g_key);
    lua_getfield(L, -1, "redis");            /* env, api, g, redis proxy */
    for (size_t i = 0; i < sizeof consts / sizeof *consts; i++) {
        lua_getfield(L, -1, consts[i]);
        lua_setfield(L, -4, consts[i]);
    }
    lua_pop(L, 2);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, g_missing);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    make_readonly(L);
    lua_setfield(L, -2, "redis");
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, g_missing);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    make_readonly(L);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &load_env_key);
}
