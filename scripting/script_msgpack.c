/* The `cmsgpack` library Redis scripts use (lua-cmsgpack's API), written for
 * Lua 5.4: pack(v1, ...) -> string; unpack(s) -> every value;
 * unpack_one(s [, offset]) -> next offset (-1 at the end), value;
 * unpack_limit(s, limit [, offset]) -> next offset, up to limit values.
 *
 * Encoding: nil, booleans, integers (and floats with an integral value) in
 * the smallest int/uint form, other floats as float32 when that is exact,
 * else float64; strings as fixstr/str8/16/32; a table whose keys are exactly
 * 1..n as an array, any other as a map. Tables nested deeper than 16 levels
 * are written as nil (so self-references end).
 *
 * Limits: the packed bytes count against memory-limit (they grow in Lua
 * memory), so a table repeating itself ({t, t} nested 16 deep, t[i] = t)
 * ends in Lua's "not enough memory" instead of growing the server; and both
 * directions call engine_check_interrupt every few thousand values, so
 * SCRIPT KILL stops a long pack or unpack. */
#include <math.h>
#include <string.h>

#include "script_internal.h"

#define MP_MAX_NESTING 16
#define MP_CHECK_EVERY 4096 /* values between interrupt checks */

/* ---- pack ----------------------------------------------------------------- */

/* The output starts in the packer (on the C stack), then grows in a Lua
 * userdata (the box) at a fixed stack slot: a failed growth is Lua's own
 * memory error, and an error raised halfway (memory, SCRIPT KILL) leaves
 * nothing to free, the box being garbage. */
typedef struct packer {
    lua_State *L;
    int box; /* stack index of the box */
    unsigned char *p;
    size_t len, cap;
    unsigned steps; /* values visited, for the interrupt checks */
    unsigned char small[256];
} packer_t;

static unsigned char *pk_room(packer_t *k, size_t n)
{
    if (k->cap - k->len >= n)
        return k->p + k->len;
    size_t cap = k->cap;
    while (cap - k->len < n) {
        if (cap > SIZE_MAX / 4)
            luaL_error(k->L, "MessagePack output too large");
        cap *= 2;
    }
    unsigned char *np = lua_newuserdatauv(k->L, cap, 0);
    if (k->len)
        memcpy(np, k->p, k->len);
    lua_replace(k->L, k->box);
    k->p = np;
    k->cap = cap;
    return np + k->len;
}

static void pk_append(packer_t *k, const void *p, size_t n)
{
    memcpy(pk_room(k, n), p, n);
    k->len += n;
}

static void pk_putc(packer_t *k, unsigned char c) { pk_append(k, &c, 1); }

static void pk_step(packer_t *k)
{
    if (++k->steps % MP_CHECK_EVERY == 0)
        engine_check_interrupt(k->L);
}

static void put_be(packer_t *b, unsigned char tag, uint64_t v, int bytes)
{
    unsigned char tmp[9];
    tmp[0] = tag;
    for (int i = 0; i < bytes; i++)
        tmp[1 + i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
    pk_append(b, tmp, (size_t)bytes + 1);
}

static void pack_int(packer_t *b, int64_t v)
{
    if (v >= 0) {
        if (v < 128)
            pk_putc(b, (unsigned char)v);
        else if (v <= 0xff)
            put_be(b, 0xcc, (uint64_t)v, 1);
        else if (v <= 0xffff)
            put_be(b, 0xcd, (uint64_t)v, 2);
        else if (v <= 0xffffffffLL)
            put_be(b, 0xce, (uint64_t)v, 4);
        else
            put_be(b, 0xcf, (uint64_t)v, 8);
    } else {
        if (v >= -32)
            pk_putc(b, (unsigned char)(0xe0 | (v + 32)));
        else if (v >= -128)
            put_be(b, 0xd0, (uint64_t)v & 0xff, 1);
        else if (v >= -32768)
            put_be(b, 0xd1, (uint64_t)v & 0xffff, 2);
        else if (v >= -2147483648LL)
            put_be(b, 0xd2, (uint64_t)v & 0xffffffffu, 4);
        else
            put_be(b, 0xd3, (uint64_t)v, 8);
    }
}

static void pack_number(lua_State *L, int idx, packer_t *b)
{
    if (lua_isinteger(L, idx)) {
        pack_int(b, (int64_t)lua_tointeger(L, idx));
        return;
    }
    double d = lua_tonumber(L, idx);
    lua_Integer i;
    if (lua_numbertointeger(d, &i) && (double)i == d && !(d == 0 && signbit(d))) {
        pack_int(b, (int64_t)i);
        return;
    }
    float f = (float)d;
    uint64_t bits;
    if ((double)f == d || isnan(d)) {
        uint32_t fb;
        memcpy(&fb, &f, 4);
        put_be(b, 0xca, fb, 4);
    } else {
        memcpy(&bits, &d, 8);
        put_be(b, 0xcb, bits, 8);
    }
}

static void pack_header(packer_t *b, size_t n, unsigned char fix, size_t fixmax, unsigned char t8,
                        unsigned char t16, unsigned char t32)
{
    if (n < fixmax)
        pk_putc(b, (unsigned char)(fix | n));
    else if (t8 && n <= 0xff)
        put_be(b, t8, n, 1);
    else if (n <= 0xffff)
        put_be(b, t16, n, 2);
    else
        put_be(b, t32, n, 4);
}

/* Keys exactly 1..n? Then *n is the array's length. */
static int table_is_array(lua_State *L, int idx, size_t *n, packer_t *b)
{
    lua_Integer max = 0;
    size_t count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        pk_step(b);
        lua_Integer k;
        if (!lua_isinteger(L, -1) || (k = lua_tointeger(L, -1)) < 1) {
            lua_pop(L, 1);
            return 0;
        }
        if (k > max)
            max = k;
        count++;
    }
    *n = count;
    return (size_t)max == count;
}

static void pack_value(lua_State *L, int idx, packer_t *b, int level)
{
    pk_step(b);
    idx = lua_absindex(L, idx);
    int t = lua_type(L, idx);
    if (t == LUA_TTABLE && (level >= MP_MAX_NESTING || !lua_checkstack(L, 4)))
        t = LUA_TNIL;
    switch (t) {
    case LUA_TBOOLEAN:
        pk_putc(b, lua_toboolean(L, idx) ? 0xc3 : 0xc2);
        break;
    case LUA_TNUMBER:
        pack_number(L, idx, b);
        break;
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        pack_header(b, n, 0xa0, 32, 0xd9, 0xda, 0xdb);
        pk_append(b, s, n);
        break;
    }
    case LUA_TTABLE: {
        size_t n;
        if (table_is_array(L, idx, &n, b)) {
            pack_header(b, n, 0x90, 16, 0, 0xdc, 0xdd);
            for (size_t i = 1; i <= n; i++) {
                lua_rawgeti(L, idx, (lua_Integer)i);
                pack_value(L, -1, b, level + 1);
                lua_pop(L, 1);
            }
        } else {
            n = 0;
            lua_pushnil(L);
            while (lua_next(L, idx)) {
                n++;
                lua_pop(L, 1);
                pk_step(b);
            }
            pack_header(b, n, 0x80, 16, 0, 0xde, 0xdf);
            lua_pushnil(L);
            while (lua_next(L, idx)) {
                pack_value(L, -2, b, level + 1);
                pack_value(L, -1, b, level + 1);
                lua_pop(L, 1);
            }
        }
        break;
    }
    default:
        pk_putc(b, 0xc0);
        break;
    }
}

static int mp_pack(lua_State *L)
{
    int n = lua_gettop(L);
    if (n == 0)
        return luaL_argerror(L, 0, "MessagePack pack needs input.");
    packer_t b = {.L = L, .box = n + 1};
    b.p = b.small;
    b.cap = sizeof b.small;
    lua_pushnil(L); /* the box's slot */
    for (int i = 1; i <= n; i++)
        pack_value(L, i, &b, 0);
    lua_pushlstring(L, (const char *)b.p, b.len);
    return 1;
}

/* ---- unpack --------------------------------------------------------------- */

typedef struct cursor {
    const unsigned char *p;
    size_t left;
    int err; /* 1 truncated, 2 bad format */
    unsigned steps; /* values decoded, for the interrupt checks */
} cursor_t;

static uint64_t take_be(cursor_t *c, int bytes)
{
    if (c->left < (size_t)bytes) {
        c->err = 1;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | c->p[i];
    c->p += bytes;
    c->left -= (size_t)bytes;
    return v;
}

static void unpack_value(lua_State *L, cursor_t *c, int depth);

static void unpack_str(lua_State *L, cursor_t *c, size_t n)
{
    if (c->left < n) {
        c->err = 1;
        return;
    }
    lua_pushlstring(L, (const char *)c->p, n);
    c->p += n;
    c->left -= n;
}

static void unpack_array(lua_State *L, cursor_t *c, size_t n, int depth)
{
    if (n > c->left) { /* every element takes a byte at least */
        c->err = 1;
        return;
    }
    lua_createtable(L, n > (1 << 20) ? 1 << 20 : (int)n, 0);
    for (size_t i = 1; i <= n && !c->err; i++) {
        unpack_value(L, c, depth + 1);
        if (!c->err)
            lua_rawseti(L, -2, (lua_Integer)i);
    }
}

static void unpack_map(lua_State *L, cursor_t *c, size_t n, int depth)
{
    if (n > c->left / 2) {
        c->err = 1;
        return;
    }
    lua_createtable(L, 0, n > (1 << 20) ? 1 << 20 : (int)n);
    for (size_t i = 0; i < n && !c->err; i++) {
        unpack_value(L, c, depth + 1);
        if (c->err)
            return;
        unpack_value(L, c, depth + 1);
        if (c->err)
            return;
        if (lua_isnil(L, -2) || (lua_type(L, -2) == LUA_TNUMBER && isnan(lua_tonumber(L, -2))))
            lua_pop(L, 2);
        else
            lua_rawset(L, -3);
    }
}

static void unpack_value(lua_State *L, cursor_t *c, int depth)
{
    if (c->left == 0) {
        c->err = 1;
        return;
    }
    if (depth > SCRIPT_MAX_DEPTH || !lua_checkstack(L, 3)) {
        c->err = 2;
        return;
    }
    if (++c->steps % MP_CHECK_EVERY == 0)
        engine_check_interrupt(L);
    unsigned char t = *c->p++;
    c->left--;
    if (t < 0x80) {
        lua_pushinteger(L, t);
    } else if (t >= 0xe0) {
        lua_pushinteger(L, (int8_t)t);
    } else if ((t & 0xe0) == 0xa0) {
        unpack_str(L, c, t & 0x1f);
    } else if ((t & 0xf0) == 0x90) {
        unpack_array(L, c, t & 0x0f, depth);
    } else if ((t & 0xf0) == 0x80) {
        unpack_map(L, c, t & 0x0f, depth);
    } else {
        uint64_t v;
        float f;
        double d;
        switch (t) {
        case 0xc0: lua_pushnil(L); break;
        case 0xc2: lua_pushboolean(L, 0); break;
        case 0xc3: lua_pushboolean(L, 1); break;
        case 0xca:
            v = take_be(c, 4);
            if (!c->err) {
                uint32_t fb = (uint32_t)v;
                memcpy(&f, &fb, 4);
                lua_pushnumber(L, f);
            }
            break;
        case 0xcb:
            v = take_be(c, 8);
            if (!c->err) {
                memcpy(&d, &v, 8);
                lua_pushnumber(L, d);
            }
            break;
        case 0xcc: v = take_be(c, 1); if (!c->err) lua_pushinteger(L, (lua_Integer)v); break;
        case 0xcd: v = take_be(c, 2); if (!c->err) lua_pushinteger(L, (lua_Integer)v); break;
        case 0xce: v = take_be(c, 4); if (!c->err) lua_pushinteger(L, (lua_Integer)v); break;
        case 0xcf: v = take_be(c, 8); if (!c->err) lua_pushinteger(L, (lua_Integer)v); break;
        case 0xd0: v = take_be(c, 1); if (!c->err) lua_pushinteger(L, (int8_t)v); break;
        case 0xd1: v = take_be(c, 2); if (!c->err) lua_pushinteger(L, (int16_t)v); break;
        case 0xd2: v = take_be(c, 4); if (!c->err) lua_pushinteger(L, (int32_t)v); break;
        case 0xd3: v = take_be(c, 8); if (!c->err) lua_pushinteger(L, (lua_Integer)v); break;
        case 0xd9: case 0xc4: v = take_be(c, 1); if (!c->err) unpack_str(L, c, v); break;
        case 0xda: case 0xc5: v = take_be(c, 2); if (!c->err) unpack_str(L, c, v); break;
        case 0xdb: case 0xc6: v = take_be(c, 4); if (!c->err) unpack_str(L, c, v); break;
        case 0xdc: v = take_be(c, 2); if (!c->err) unpack_array(L, c, v, depth); break;
        case 0xdd: v = take_be(c, 4); if (!c->err) unpack_array(L, c, v, depth); break;
        case 0xde: v = take_be(c, 2); if (!c->err) unpack_map(L, c, v, depth); break;
        case 0xdf: v = take_be(c, 4); if (!c->err) unpack_map(L, c, v, depth); break;
        default: c->err = 2; break;
        }
    }
}

/* Decode up to limit values (0: all) from offset; push the next offset (-1
 * when the input is used up) first when with_offset. */
static int unpack_generic(lua_State *L, lua_Integer limit, lua_Integer offset, int with_offset)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    if (offset < 0 || (size_t)offset > len)
        return luaL_argerror(L, with_offset ? (limit ? 3 : 2) : 1, "offset out of range");
    int base = lua_gettop(L);
    if (with_offset)
        lua_pushnil(L); /* the offset, set at the end */
    cursor_t c = {(const unsigned char *)s + offset, len - (size_t)offset, 0, 0};
    int count = 0;
    while (c.left > 0 && (limit == 0 || count < limit)) {
        unpack_value(L, &c, 0);
        if (c.err) {
            lua_settop(L, base);
            return luaL_error(L, c.err == 1 ? "Missing bytes in input."
                                            : "Bad data format in input.");
        }
        count++;
    }
    if (with_offset) {
        lua_pushinteger(L, c.left ? (lua_Integer)(len - c.left) : -1);
        lua_replace(L, base + 1);
        return count + 1;
    }
    return count;
}

static int mp_unpack(lua_State *L) { return unpack_generic(L, 0, 0, 0); }
static int mp_unpack_one(lua_State *L)
{
    return unpack_generic(L, 1, luaL_optinteger(L, 2, 0), 1);
}
static int mp_unpack_limit(lua_State *L)
{
    lua_Integer limit = luaL_checkinteger(L, 2);
    return unpack_generic(L, limit > 0 ? limit : 0, luaL_optinteger(L, 3, 0), 1);
}

void msgpacklib_push(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"pack", mp_pack},
        {"unpack", mp_unpack},
        {"unpack_one", mp_unpack_one},
        {"unpack_limit", mp_unpack_limit},
        {NULL, NULL},
    };
    luaL_newlib(L, fns);
    lua_pushliteral(L, "lua-cmsgpack");
    lua_setfield(L, -2, "_NAME");
    lua_pushliteral(L, "lua-cmsgpack 0.4.0 (percore, Lua 5.4)");
    lua_setfield(L, -2, "_VERSION");
}
