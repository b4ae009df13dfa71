/* The `bit` library Redis scripts use (LuaBitOp's API and 32-bit semantics)
 * on Lua 5.4 numbers: every argument is reduced to 32 bits (integers modulo
 * 2^32, floats rounded to the nearest integer first), every result is a
 * signed 32-bit integer. */
#include <math.h>
#include <stdint.h>

#include "script_internal.h"

static uint32_t barg(lua_State *L, int idx)
{
    int isnum;
    lua_Integer i = lua_tointegerx(L, idx, &isnum);
    if (isnum)
        return (uint32_t)(uint64_t)i;
    lua_Number d = lua_tonumberx(L, idx, &isnum);
    if (!isnum)
        return (uint32_t)luaL_typeerror(L, idx, "number");
    if (!isfinite(d))
        return 0;
    d = nearbyint(d); /* round half to even, as LuaBitOp's 2^52+2^51 trick */
    if (fabs(d) < 9.2e18)
        return (uint32_t)(uint64_t)(int64_t)d;
    d = fmod(d, 4294967296.0);
    if (d < 0)
        d += 4294967296.0;
    return (uint32_t)d;
}

static int push_bits(lua_State *L, uint32_t b)
{
    lua_pushinteger(L, (lua_Integer)(int32_t)b);
    return 1;
}

static int bit_tobit(lua_State *L) { return push_bits(L, barg(L, 1)); }
static int bit_bnot(lua_State *L) { return push_bits(L, ~barg(L, 1)); }
static int bit_bswap(lua_State *L)
{
    uint32_t b = barg(L, 1);
    return push_bits(L, (b >> 24) | ((b >> 8) & 0xff00u) | ((b & 0xff00u) << 8) | (b << 24));
}

static int bit_band(lua_State *L)
{
    uint32_t b = barg(L, 1);
    for (int i = lua_gettop(L); i > 1; i--)
        b &= barg(L, i);
    return push_bits(L, b);
}

static int bit_bor(lua_State *L)
{
    uint32_t b = barg(L, 1);
    for (int i = lua_gettop(L); i > 1; i--)
        b |= barg(L, i);
    return push_bits(L, b);
}

static int bit_bxor(lua_State *L)
{
    uint32_t b = barg(L, 1);
    for (int i = lua_gettop(L); i > 1; i--)
        b ^= barg(L, i);
    return push_bits(L, b);
}

static int bit_lshift(lua_State *L) { return push_bits(L, barg(L, 1) << (barg(L, 2) & 31)); }
static int bit_rshift(lua_State *L) { return push_bits(L, barg(L, 1) >> (barg(L, 2) & 31)); }
static int bit_arshift(lua_State *L)
{
    int32_t v = (int32_t)barg(L, 1);
    unsigned n = barg(L, 2) & 31;
    /* An arithmetic shift written without shifting a negative value. */
    uint32_t r = v < 0 ? ~(~(uint32_t)v >> n) : (uint32_t)v >> n;
    return push_bits(L, r);
}

static int bit_rol(lua_State *L)
{
    uint32_t b = barg(L, 1), n = barg(L, 2) & 31;
    return push_bits(L, n ? (b << n) | (b >> (32 - n)) : b);
}

static int bit_ror(lua_State *L)
{
    uint32_t b = barg(L, 1), n = barg(L, 2) & 31;
    return push_bits(L, n ? (b >> n) | (b << (32 - n)) : b);
}

/* bit.tohex(x [, n]): n hex digits (default 8, at most 8), upper case when
 * n is negative. n is reduced to 32 bits like any argument; its magnitude is
 * taken in 64 bits so that -2^31 means 8 upper-case digits. */
static int bit_tohex(lua_State *L)
{
    uint32_t b = barg(L, 1);
    int64_t n = lua_isnoneornil(L, 2) ? 8 : (int64_t)(int32_t)barg(L, 2);
    const char *digits = "0123456789abcdef";
    if (n < 0) {
        n = -n;
        digits = "0123456789ABCDEF";
    }
    if (n > 8)
        n = 8;
    char buf[8];
    for (int i = (int)n - 1; i >= 0; i--) {
        buf[i] = digits[b & 15];
        b >>= 4;
    }
    lua_pushlstring(L, buf, (size_t)n);
    return 1;
}

void bitlib_push(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"tobit", bit_tobit},   {"bnot", bit_bnot},     {"band", bit_band},
        {"bor", bit_bor},       {"bxor", bit_bxor},     {"lshift", bit_lshift},
        {"rshift", bit_rshift}, {"arshift", bit_arshift}, {"rol", bit_rol},
        {"ror", bit_ror},       {"bswap", bit_bswap},   {"tohex", bit_tohex},
        {NULL, NULL},
    };
    luaL_newlib(L, fns);
}
