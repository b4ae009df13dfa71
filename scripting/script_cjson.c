/* The `cjson` library of scripts: Debian's lua-cjson 2.1.0, opened into each
 * worker's state and guarded, because a script must not be able to crash
 * the server, grow it past memory-limit or leave settings for the next one:
 *
 * - Settings (encode_sparse_array, encode_max_depth, decode_max_depth,
 *   encode_number_precision, encode_keep_buffer, encode_invalid_numbers,
 *   decode_invalid_numbers) go through wrappers that mark the state dirty
 *   when a script changes one; the engine then puts all of them back to
 *   lua-cjson's defaults (read from the library when it is opened) before
 *   the next script. The depth settings are clamped to CJSON_MAX_DEPTH
 *   (script_internal.h): lua-cjson recurses in C, and a million levels
 *   overflow the thread's stack.
 * - encode builds its text in a buffer malloc'd outside the Lua allocator,
 *   in C code that never returns to Lua until it is done. So before calling
 *   it a walk of the value (Lua stack only, interruptible) adds up an upper
 *   bound of the output, written as lua-cjson writes it, and stops with
 *   Lua's "not enough memory" as soon as that passes what the script may
 *   still allocate; the bound is then charged against memory-limit while
 *   lua-cjson holds its buffer. The walk visits what the encoder would,
 *   repeats included, so a table that repeats itself ({t, t} nested) costs
 *   at most about memory-limit of walking, never gigabytes of output; and
 *   the encode that follows is bounded by memory-limit bytes. A kept buffer
 *   (encode_keep_buffer) that grew past a megabyte is released after it.
 * - decode charges the copy of its input that lua-cjson makes outside Lua;
 *   what it builds is Lua memory. Its time is linear in the input, which
 *   memory-limit bounds.
 * - cjson.new() returns an instance wrapped the same way. */
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "log.h"
#include "script_internal.h"
#include "forksafe.h"

/* Debian's lua-cjson (liblua5.4-cjson.so.0). The build links it and defines
 * PERCORE_CJSON_LINKED; without that the reference is weak and the library
 * is looked up at run time instead (see cjson_opener). */
#ifdef PERCORE_CJSON_LINKED
int luaopen_cjson(lua_State *L);
#else
int luaopen_cjson(lua_State *L) __attribute__((weak));
#endif

#define CJ_CHECK_EVERY 4096   /* values walked between interrupt checks */
#define CJ_KEEP_MAX (1u << 20) /* a kept encode buffer larger than this is freed */

static _Atomic uint64_t bound_misses; /* encodes longer than their walk's bound */
static char defaults_key; /* registry: {{setter, default values..., n = count}, ...} */

static const char *const settings[] = {
    "encode_sparse_array",    "encode_max_depth",       "decode_max_depth",
    "encode_number_precision", "encode_keep_buffer",    "encode_invalid_numbers",
    "decode_invalid_numbers", NULL,
};

/* ---- calling lua-cjson ----------------------------------------------------- */

/* Call the function below the n arguments on top of the stack, protected
 * (so that the charge is given back), and raise its error again. */
static void rethrow(lua_State *L, int st, const char *name);

static void call_original(lua_State *L, int n, int nres, const char *name, size_t charged)
{
    int st = lua_pcall(L, n, nres, 0);
    engine_uncharge(L, charged);
    if (st != LUA_OK)
        rethrow(L, st, name);
}

/* Raise again the error a pcall of lua-cjson's function `name` returned
 * (status st, the object on top) as if the script had called it directly:
 * at the script's line, under its own name. A memory error stays one. */
static void rethrow(lua_State *L, int st, const char *name)
{
    if (st == LUA_ERRMEM) {
        lua_pop(L, 1);
        engine_raise_nomem(L);
    }
    if (lua_type(L, -1) == LUA_TSTRING) {
        /* lua-cjson called from C: luaL_argerror could not name it. */
        const char *msg = lua_tostring(L, -1);
        const char *q = strstr(msg, " to '?'");
        luaL_where(L, 1);
        if (q && strncmp(msg, "bad argument #", 14) == 0) {
            lua_pushlstring(L, msg, (size_t)(q - msg));
            lua_pushfstring(L, " to '%s'%s", name, q + 7);
            lua_concat(L, 3);
        } else {
            lua_pushvalue(L, -2);
            lua_concat(L, 2);
        }
    }
    lua_error(L);
}

/* A setting: upvalues (1) the original, (2) its name, (3) true for a depth. */
static int cj_setting(lua_State *L)
{
    int n = lua_gettop(L);
    if (n > 0) {
        lstate_of(L)->cjson_dirty = 1;
        if (lua_toboolean(L, lua_upvalueindex(3)) && lua_type(L, 1) == LUA_TNUMBER &&
            lua_tonumber(L, 1) > CJSON_MAX_DEPTH) {
            lua_pushinteger(L, CJSON_MAX_DEPTH);
            lua_replace(L, 1);
        }
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    call_original(L, n, LUA_MULTRET, lua_tostring(L, lua_upvalueindex(2)), 0);
    return lua_gettop(L);
}

/* ---- decode ---------------------------------------------------------------- */

/* JSON numbers decode as floats; a float with an integral value becomes an
 * integer so that it prints as Lua 5.1 printed it ("1", not "1.0"). */
static int integral(lua_State *L, int idx, lua_Integer *out)
{
    lua_Number d = lua_tonumber(L, idx);
    return lua_type(L, idx) == LUA_TNUMBER && !lua_isinteger(L, idx) &&
           lua_numbertointeger(d, out) && (lua_Number)*out == d;
}

static void integralize(lua_State *L, int idx, int depth, unsigned *steps)
{
    if (depth > SCRIPT_MAX_DEPTH || !lua_checkstack(L, 3))
        return;
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_Integer i;
        if (++*steps % CJ_CHECK_EVERY == 0)
            engine_check_interrupt(L);
        if (integral(L, -1, &i)) {
            lua_pushvalue(L, -2);
            lua_pushinteger(L, i);
            lua_rawset(L, idx);
        } else if (lua_type(L, -1) == LUA_TTABLE) {
            integralize(L, -1, depth + 1, steps);
        }
        lua_pop(L, 1);
    }
}

/* decode(text): upvalue (1) the original. */
static int cj_decode(lua_State *L)
{
    int n = lua_gettop(L);
    size_t len = 0;
    if (n >= 1 && lua_type(L, 1) == LUA_TSTRING)
        lua_tolstring(L, 1, &len);
    engine_charge(L, len); /* lua-cjson's scratch copy of the text */
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    call_original(L, n, 1, "decode", len);
    lua_Integer i;
    unsigned steps = 0;
    if (lua_type(L, -1) == LUA_TTABLE) {
        integralize(L, -1, 0, &steps);
    } else if (integral(L, -1, &i)) {
        lua_pop(L, 1);
        lua_pushinteger(L, i);
    }
    return 1;
}

/* ---- encode ---------------------------------------------------------------- */

/* Bytes lua-cjson writes for each byte of a string: a six-byte \u escape
 * (backslash, u, four hex digits) for controls
 * and DEL, a backslash before '"', '\' and '/' (at most; a few controls
 * take two). */
static unsigned char esc_len[256];
static pthread_once_t esc_once = PTHREAD_ONCE_INIT;

static void esc_init(void)
{
    for (int c = 0; c < 256; c++)
        esc_len[c] = c < 0x20 || c == 0x7f ? 6 : c == '"' || c == '\\' || c == '/' ? 2 : 1;
}

/* The output bound being added up, and what it may reach. */
typedef struct walk {
    lua_State *L;
    size_t total;  /* the bound so far */
    size_t left;   /* bytes of the budget not used yet */
    int collected; /* a full collection was tried already */
    unsigned steps;
    lua_Number sparse_ratio, sparse_safe; /* encode_sparse_array(_, ratio, safe) */
    int precision;                        /* encode_number_precision: "%.<precision>g" */
} walk_t;

static void add(walk_t *w, size_t n)
{
    while (n > w->left) {
        if (w->collected)
            engine_raise_nomem(w->L);
        /* The script's garbage may make room, as for any allocation. */
        size_t before = engine_budget(w->L);
        lua_gc(w->L, LUA_GCCOLLECT);
        size_t after = engine_budget(w->L);
        w->left += after > before ? after - before : 0;
        w->collected = 1;
    }
    w->left -= n;
    w->total += n;
}

static size_t string_cost(lua_State *L, int idx)
{
    size_t n;
    const unsigned char *s = (const unsigned char *)lua_tolstring(L, idx, &n);
    size_t cost = 2;
    for (size_t i = 0; i < n; i++)
        cost += esc_len[s[i]];
    return cost;
}

/* The most "%.<p>g" writes for v (lua-cjson writes every number so, as a
 * double): an integral value of d digits takes d when d <= p, else the
 * exponent form, p + 6 at most ("1.2e+308": mantissa, point, e, sign, three
 * digits); any other value p + 6 as well (fixed notation adds at most
 * "0.000" before p digits). Plus a sign; "-inf" and "nan" fit. */
static size_t number_cost(const walk_t *w, lua_Number v)
{
    size_t sign = v < 0, p = (size_t)w->precision;
    if (isfinite(v) && floor(v) == v && fabs(v) < 1e18) {
        unsigned long long u = (unsigned long long)fabs(v);
        size_t d = 1;
        while (u >= 10) {
            u /= 10;
            d++;
        }
        return sign + (d <= p ? d : p + 6);
    }
    return sign + p + 6;
}

static size_t add_sat(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }

static void walk_value(walk_t *w, int idx, int depth);

/* A table as lua-cjson writes it: an array when every key is an integer >= 1
 * (nulls filling the holes), unless the sparse rule makes it an object
 * (encode_sparse_array's convert) or an error; else an object. */
static void walk_table(walk_t *w, int idx, int depth)
{
    lua_State *L = w->L;
    /* lua-cjson stops past encode_max_depth (at most CJSON_MAX_DEPTH) with
     * its "excessive nesting" error: nothing deeper is written. */
    if (depth > CJSON_MAX_DEPTH || !lua_checkstack(L, 3)) {
        add(w, 2);
        return;
    }
    lua_Number max = 0, count = 0;
    int array = 1;
    size_t keys = 0; /* the keys, written as an object's: "k": */
    add(w, 2);       /* [] or {} */
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        int kt = lua_type(L, -2);
        if (kt == LUA_TNUMBER) {
            lua_Number k = lua_tonumber(L, -2);
            if (floor(k) == k && k >= 1) {
                if (k > max)
                    max = k;
            } else {
                array = 0;
            }
            keys = add_sat(keys, number_cost(w, k) + 3);
        } else {
            array = 0;
            keys = add_sat(keys, (kt == LUA_TSTRING ? string_cost(L, -2) : 4) + 1);
        }
        count++;
        walk_value(w, lua_gettop(L), depth + 1);
        add(w, 1); /* , */
        lua_pop(L, 1);
    }
    lua_Number holes = (max - count) * 5; /* null, */
    /* negative when keys that are not positive integers were counted too */
    size_t nulls = holes <= 0                     ? 0
                   : holes >= (lua_Number)SIZE_MAX ? SIZE_MAX
                                                   : (size_t)holes;
    if (!array || count == 0) {
        add(w, keys);
    } else if (w->sparse_ratio > 0 && max > count * w->sparse_ratio && max > w->sparse_safe) {
        add(w, keys); /* converted (or lua-cjson's error: nothing written) */
    } else if (max > 2147483647.0) {
        /* lua-cjson keeps the largest key in an int: past it, either form */
        add(w, add_sat(keys, nulls));
    } else {
        add(w, nulls);
    }
}

static void walk_value(walk_t *w, int idx, int depth)
{
    if (++w->steps % CJ_CHECK_EVERY == 0)
        engine_check_interrupt(w->L);
    switch (lua_type(w->L, idx)) {
    case LUA_TSTRING:
        add(w, string_cost(w->L, idx));
        break;
    case LUA_TNUMBER:
        add(w, number_cost(w, lua_tonumber(w->L, idx)));
        break;
    case LUA_TTABLE:
        walk_table(w, idx, depth);
        break;
    default: /* true, false, null; anything else is lua-cjson's error */
        add(w, 5);
        break;
    }
}

/* encode(value): upvalues (1) the original, (2) encode_sparse_array,
 * (3) encode_keep_buffer, (4) encode_number_precision, of the same instance. */
static int cj_encode(lua_State *L)
{
    int n = lua_gettop(L);
    size_t bound = 0;
    int walked = n == 1 && engine_budget(L) != SIZE_MAX;
    if (walked) {
        walk_t w = {.L = L, .left = engine_budget(L)};
        pthread_once(&esc_once, esc_init);
        lua_pushvalue(L, lua_upvalueindex(2));
        call_original(L, 0, 3, "encode_sparse_array", 0);
        w.sparse_ratio = lua_tonumber(L, -2);
        w.sparse_safe = lua_tonumber(L, -1);
        lua_pushvalue(L, lua_upvalueindex(4));
        call_original(L, 0, 1, "encode_number_precision", 0);
        w.precision = (int)lua_tointeger(L, -1);
        lua_pop(L, 4);
        if (w.precision < 1 || w.precision > 17)
            w.precision = 17; /* "%.17g" is a double's longest exact form */
        walk_value(&w, 1, 0);
        bound = w.total;
        engine_charge(L, bound);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    int st = lua_pcall(L, n, 1, 0);
    engine_uncharge(L, bound);
    size_t len = st == LUA_OK ? lua_rawlen(L, -1) : 0;
    if (walked && len > bound) {
        /* The walk's bound was short (a lua-cjson writing differently):
         * the buffer was under-charged for a moment, nothing worse. */
        if (atomic_fetch_add(&bound_misses, 1) == 0)
            log_warn("cjson.encode wrote %zu bytes, more than the %zu its walk allowed", len,
                     bound);
    }
    /* Also after an error: the buffer may have grown before it. */
    if (bound > CJ_KEEP_MAX || len > CJ_KEEP_MAX) {
        /* Turning encode_keep_buffer off frees the kept buffer; back on, it
         * starts small. */
        lua_pushvalue(L, lua_upvalueindex(3));
        call_original(L, 0, 1, "encode_keep_buffer", 0);
        if (lua_toboolean(L, -1)) {
            lua_pushvalue(L, lua_upvalueindex(3));
            lua_pushboolean(L, 0);
            call_original(L, 1, 0, "encode_keep_buffer", 0);
            lua_pushvalue(L, lua_upvalueindex(3));
            lua_pushboolean(L, 1);
            call_original(L, 1, 0, "encode_keep_buffer", 0);
        }
        lua_pop(L, 1);
    }
    if (st != LUA_OK)
        rethrow(L, st, "encode");
    return 1;
}

uint64_t cjsonlib_bound_misses(void) { return atomic_load(&bound_misses); }

/* ---- instances ------------------------------------------------------------- */

static void wrap_instance(lua_State *L, int t);

/* new(): a fresh lua-cjson instance, wrapped. Upvalue (1) the original. */
static int cj_new(lua_State *L)
{
    lua_settop(L, 0);
    lua_pushvalue(L, lua_upvalueindex(1));
    call_original(L, 0, 1, "new", 0);
    if (lua_type(L, 1) == LUA_TTABLE)
        wrap_instance(L, 1);
    return 1;
}

/* Replace the functions of the lua-cjson table at t by the wrappers. */
static void wrap_instance(lua_State *L, int t)
{
    t = lua_absindex(L, t);
    /* encode first: it keeps the original setters it calls. */
    lua_getfield(L, t, "encode");
    lua_getfield(L, t, "encode_sparse_array");
    lua_getfield(L, t, "encode_keep_buffer");
    lua_getfield(L, t, "encode_number_precision");
    lua_pushcclosure(L, cj_encode, 4);
    lua_setfield(L, t, "encode");
    for (const char *const *s = settings; *s; s++) {
        if (lua_getfield(L, t, *s) != LUA_TFUNCTION) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushstring(L, *s);
        lua_pushboolean(L, strstr(*s, "_max_depth") != NULL);
        lua_pushcclosure(L, cj_setting, 3);
        lua_setfield(L, t, *s);
    }
    lua_getfield(L, t, "decode");
    lua_pushcclosure(L, cj_decode, 1);
    lua_setfield(L, t, "decode");
    if (lua_getfield(L, t, "new") == LUA_TFUNCTION) {
        lua_pushcclosure(L, cj_new, 1);
        lua_setfield(L, t, "new");
    } else {
        lua_pop(L, 1);
    }
}

int cjsonlib_reset(lua_State *L)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &defaults_key) != LUA_TTABLE)
        return 0;
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i); /* {setter, values...} */
        lua_Integer k = (lua_Integer)lua_rawlen(L, -1);
        for (lua_Integer j = 1; j <= k; j++)
            lua_rawgeti(L, -j, j);
        lua_call(L, (int)k - 1, 0);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return 0;
}

/* Record each setting's current (default) values with its original setter. */
static void record_defaults(lua_State *L, int t)
{
    lua_newtable(L);
    lua_Integer i = 0;
    for (const char *const *s = settings; *s; s++) {
        if (lua_getfield(L, t, *s) != LUA_TFUNCTION) {
            lua_pop(L, 1);
            continue;
        }
        int base = lua_gettop(L);
        lua_pushvalue(L, base);
        lua_call(L, 0, LUA_MULTRET);
        int nv = lua_gettop(L) - base;
        lua_createtable(L, nv + 1, 0);
        lua_insert(L, base);
        for (int j = nv + 1; j >= 1; j--)
            lua_rawseti(L, base, j);
        lua_rawseti(L, -2, ++i);
    }
    lua_rawsetp(L, LUA_REGISTRYINDEX, &defaults_key);
}

/* ---- opening ---------------------------------------------------------------- */

/* lua-cjson's one-time init writes a process-wide global: one opener at a
 * time. */
static pthread_mutex_t cjson_lock = PTHREAD_MUTEX_INITIALIZER;
FORKSAFE_MUTEX(cjson_lock) /* a SCRIPT DEBUG YES child may take it */
static lua_CFunction cjson_fn;
static int cjson_resolved;

/* Caller holds cjson_lock. luaopen_cjson if linked, else from the shared
 * library; NULL (logged once) when lua-cjson is not installed. */
static lua_CFunction cjson_opener(void)
{
    if (cjson_resolved)
        return cjson_fn;
    cjson_resolved = 1;
#ifdef PERCORE_CJSON_LINKED
    cjson_fn = luaopen_cjson;
    return cjson_fn;
#else
    if (luaopen_cjson) {
        cjson_fn = luaopen_cjson;
        return cjson_fn;
    }
    void *h = dlopen("liblua5.4-cjson.so.0", RTLD_NOW | RTLD_LOCAL);
    void *sym = h ? dlsym(h, "luaopen_cjson") : NULL;
    if (sym)
        memcpy(&cjson_fn, &sym, sizeof cjson_fn);
    else
        log_warn("lua-cjson (liblua5.4-cjson.so.0) not found: scripts have no cjson");
    return cjson_fn;
#endif
}

void cjsonlib_open(lua_State *L)
{
    int st = LUA_OK;
    pthread_mutex_lock(&cjson_lock);
    lua_CFunction fn = cjson_opener();
    if (fn) {
        lua_pushcfunction(L, fn);
        st = lua_pcall(L, 0, 1, 0);
    }
    pthread_mutex_unlock(&cjson_lock);
    if (!fn)
        return;
    if (st != LUA_OK)
        lua_error(L);
    record_defaults(L, lua_gettop(L));
    wrap_instance(L, -1);
    lua_setglobal(L, "cjson");
}
