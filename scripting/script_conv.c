/* Lua <-> RESP, by the rules of Redis's Lua API reference:
 *
 *   RESP -> Lua: integer -> number, bulk -> string, nil bulk / nil array ->
 *   false, array -> table, status -> {ok=s}, error -> {err=s}; and under
 *   redis.setresp(3): map -> {map={k=v}}, set -> {set={e=true}}, null -> nil,
 *   boolean -> boolean, double -> {double=n}, big number -> {big_number=s},
 *   verbatim -> {verbatim_string={format=f, string=s}}; attributes skipped.
 *
 *   Lua -> RESP: string -> bulk, number -> integer (truncated), table ->
 *   {err=}, {ok=}, {double=}, {big_number=}, {verbatim_string=}, {map=},
 *   {set=} in that order of precedence, else an array up to the first nil;
 *   true -> 1 and false -> null when the script speaks RESP2, booleans when
 *   it speaks RESP3; nil and anything else -> null. RESP3 types degrade for a
 *   RESP2 client, as every reply does. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "object.h"
#include "script_internal.h"

/* ---- RESP -> Lua ------------------------------------------------------------ */

/* The line starting at p (without its CRLF) and its length; -1 if no CRLF. */
static long line_len(const char *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (p[i] == '\r' && p[i + 1] == '\n')
            return (long)i;
    return -1;
}

static int parse_ll(const char *p, size_t n, long long *out)
{
    char tmp[32];
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(tmp, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static void push_field_table(lua_State *L, const char *field)
{
    /* value on top -> {field = value} on top */
    lua_createtable(L, 0, 1);
    lua_insert(L, -2);
    lua_setfield(L, -2, field);
}

/* value on top -> {err = value, <counted> = true}: the command's error reply
 * was counted when it was written. */
static void push_counted_error(lua_State *L)
{
    lua_createtable(L, 0, 2);
    lua_insert(L, -2);
    lua_setfield(L, -2, "err");
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, CONV_COUNTED_FIELD);
}

#define AGG_FAIL ((size_t)-1)

static size_t parse_value(lua_State *L, const char *p, size_t n, int depth);

/* An aggregate of count elements (pairs when kv) starting at p: the bytes
 * used (0 for an empty one), or AGG_FAIL. */
static size_t parse_aggregate(lua_State *L, char type, long long count, const char *p, size_t n,
                              int depth)
{
    size_t used = 0;
    int kv = type == '%' || type == '|';
    if (count < 0 || (uint64_t)count > n) /* each element takes at least one byte */
        return AGG_FAIL;
    int hint = count > (1 << 20) ? 1 << 20 : (int)count; /* a hint only */
    lua_createtable(L, kv || type == '~' ? 0 : hint, kv || type == '~' ? hint : 0);
    for (long long i = 0; i < count; i++) {
        size_t k = parse_value(L, p + used, n - used, depth + 1);
        if (!k)
            return AGG_FAIL;
        used += k;
        if (kv) {
            size_t v = parse_value(L, p + used, n - used, depth + 1);
            if (!v)
                return AGG_FAIL;
            used += v;
            /* Lua keys cannot be nil (RESP3 null) or NaN: such pairs are dropped. */
            if (lua_isnil(L, -2) || (lua_type(L, -2) == LUA_TNUMBER && lua_tonumber(L, -2) !=
                                                                          lua_tonumber(L, -2)))
                lua_pop(L, 2);
            else
                lua_rawset(L, -3);
        } else if (type == '~') {
            if (lua_isnil(L, -1)) {
                lua_pop(L, 1);
                continue;
            }
            lua_pushboolean(L, 1);
            lua_rawset(L, -3);
        } else {
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
    }
    if (type == '%')
        push_field_table(L, "map");
    else if (type == '~')
        push_field_table(L, "set");
    return used;
}

static size_t parse_value(lua_State *L, const char *p, size_t n, int depth)
{
    if (depth > SCRIPT_MAX_DEPTH || !lua_checkstack(L, 4))
        return 0;
    long ll = n ? line_len(p, n) : -1;
    if (ll < 1)
        return 0;
    const char *s = p + 1;
    size_t sl = (size_t)ll - 1, hdr = (size_t)ll + 2;
    long long v;
    int top = lua_gettop(L);
    size_t used = 0;
    switch (p[0]) {
    case '+':
    case '-':
        lua_pushlstring(L, s, sl);
        if (p[0] == '+')
            push_field_table(L, "ok");
        else
            push_counted_error(L);
        return hdr;
    case ':':
        if (parse_ll(s, sl, &v) != 0)
            return 0;
        lua_pushinteger(L, (lua_Integer)v);
        return hdr;
    case '$':
    case '=':
    case '!':
        if (parse_ll(s, sl, &v) != 0)
            return 0;
        if (v < 0) {
            lua_pushboolean(L, 0);
            return hdr;
        }
        if ((uint64_t)v > n - hdr || n - hdr - (size_t)v < 2)
            return 0;
        if (p[0] == '=') {
            if (v < 4)
                return 0;
            lua_createtable(L, 0, 2);
            lua_pushlstring(L, p + hdr, 3);
            lua_setfield(L, -2, "format");
            lua_pushlstring(L, p + hdr + 4, (size_t)v - 4);
            lua_setfield(L, -2, "string");
            push_field_table(L, "verbatim_string");
        } else {
            lua_pushlstring(L, p + hdr, (size_t)v);
            if (p[0] == '!')
                push_counted_error(L);
        }
        return hdr + (size_t)v + 2;
    case '*':
    case '>':
    case '%':
    case '~':
        if (parse_ll(s, sl, &v) != 0)
            return 0;
        if (v < 0) {
            lua_pushboolean(L, 0);
            return hdr;
        }
        used = parse_aggregate(L, p[0], v, p + hdr, n - hdr, depth);
        break;
    case '|': /* attribute: parsed and dropped; the reply follows it */
        if (parse_ll(s, sl, &v) != 0)
            return 0;
        used = parse_aggregate(L, '|', v, p + hdr, n - hdr, depth);
        if (used == AGG_FAIL)
            break;
        lua_pop(L, 1);
        {
            size_t more = parse_value(L, p + hdr + used, n - hdr - used, depth);
            used = more ? used + more : AGG_FAIL;
        }
        break;
    case '_':
        lua_pushnil(L);
        return hdr;
    case '#':
        if (sl != 1 || (s[0] != 't' && s[0] != 'f'))
            return 0;
        lua_pushboolean(L, s[0] == 't');
        return hdr;
    case ',': {
        char tmp[64];
        if (sl == 0 || sl >= sizeof tmp)
            return 0;
        memcpy(tmp, s, sl);
        tmp[sl] = '\0';
        char *end;
        double d = strtod(tmp, &end);
        if (*end)
            return 0;
        lua_pushnumber(L, d);
        push_field_table(L, "double");
        return hdr;
    }
    case '(':
        lua_pushlstring(L, s, sl);
        push_field_table(L, "big_number");
        return hdr;
    default:
        return 0;
    }
    if (used == AGG_FAIL) {
        lua_settop(L, top);
        return 0;
    }
    return hdr + used;
}

size_t conv_reply_to_lua(lua_State *L, const char *p, size_t n)
{
    int top = lua_gettop(L);
    size_t used = parse_value(L, p, n, 0);
    if (!used)
        lua_settop(L, top);
    return used;
}



int conv_number_arg(lua_State *L, int idx, char *dst)
{
    if (lua_isinteger(L, idx))
        return ll_to_str(dst, (long long)lua_tointeger(L, idx));
    /* Redis 7.0 formats every Lua number this way: 3.0 is "3", 0.1 is
     * "0.10000000000000001". */
    return snprintf(dst, 32, "%.17g", (double)lua_tonumber(L, idx));
}

/* ---- Lua -> RESP ------------------------------------------------------------ */

/* s with CR and LF turned into spaces (they would end a one-line reply). */
static void put_line(buf_t *b, char type, const char *s, size_t n)
{
    buf_reserve(b, n + 3);
    b->data[b->len++] = type;
    for (size_t i = 0; i < n; i++)
        b->data[b->len++] = (s[i] == '\r' || s[i] == '\n') ? ' ' : s[i];
    b->data[b->len++] = '\r';
    b->data[b->len++] = '\n';
}

static long long number_to_ll(lua_State *L, int idx)
{
    if (lua_isinteger(L, idx))
        return (long long)lua_tointeger(L, idx);
    double d = lua_tonumber(L, idx);
    /* Truncated toward zero, as Redis's (long long) cast; out of range and
     * NaN give what that cast gives on x86-64. */
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
        return LLONG_MIN;
    return (long long)d;
}

/* The fields a reply table is looked up by, pushed once below the value
 * (lua_pushstring of a C string costs a lookup in Lua's string cache, a
 * strcmp: most of the time of a big reply), from a table of them kept in
 * the registry. */
static const char *const field_names[] = {
    "err", CONV_COUNTED_FIELD, "ok", "double", "big_number", "verbatim_string",
    "format", "string", "map", "set",
};
static char names_key;
enum { F_ERR, F_COUNTED, F_OK, F_DOUBLE, F_BIG, F_VERBATIM, F_FORMAT, F_STRING, F_MAP, F_SET,
       F_COUNT };

/* Where a script's value goes: the reply, the script's redis.setresp()
 * protocol, and the error tables written that were counted already; the
 * reply's start in r->out and the end it may not pass (SIZE_MAX: none),
 * over once it did. */
typedef struct conv_out {
    reply_t *r;
    int resp;
    int counted;
    size_t start, end;
    int over;
    unsigned steps; /* values written, for the interrupt checks */
    int names;      /* stack index of field_names[0]; the others follow */
} conv_out_t;

/* How many key/value pairs the table on top of the stack holds. */
static long table_pairs(lua_State *L)
{
    long n = 0;

    lua_pushnil(L);
    while (lua_next(L, -2)) {
        n++;
        lua_pop(L, 1);
    }
    return n;
}

/* The field f of the table at idx (relative), pushed; returns its type. */
static int raw_field(lua_State *L, const conv_out_t *o, int idx, int f)
{
    lua_pushvalue(L, o->names + f);
    return lua_rawget(L, idx < 0 ? idx - 1 : idx);
}

static void to_reply(lua_State *L, conv_out_t *o, int depth);

static void table_to_reply(lua_State *L, conv_out_t *o, int depth)
{
    reply_t *r = o->r;
    size_t n;
    const char *s;
    if (raw_field(L, o, -1, F_ERR) == LUA_TSTRING) {
        s = lua_tolstring(L, -1, &n);
        /* "-" + the text as it is: a table error carries its own code. */
        put_line(r->out, '-', s, n);
        int counted = raw_field(L, o, -2, F_COUNTED) == LUA_TBOOLEAN && lua_toboolean(L, -1);
        lua_pop(L, 1);
        if (counted)
            o->counted++;
        else
            reply_note_error(r, s, n); /* s stays valid: the err field is still on the stack */
        lua_pop(L, 1);
        return;
    }
    lua_pop(L, 1);
    if (raw_field(L, o, -1, F_OK) == LUA_TSTRING) {
        s = lua_tolstring(L, -1, &n);
        put_line(r->out, '+', s, n);
        lua_pop(L, 1);
        return;
    }
    lua_pop(L, 1);
    if (raw_field(L, o, -1, F_DOUBLE) == LUA_TNUMBER) {
        reply_double(r, (double)lua_tonumber(L, -1));
        lua_pop(L, 1);
        return;
    }
    lua_pop(L, 1);
    if (raw_field(L, o, -1, F_BIG) == LUA_TSTRING) {
        s = lua_tolstring(L, -1, &n);
        if (r->proto >= 3) {
            put_line(r->out, '(', s, n);
        } else {
            /* The same text, CR/LF blanked, as a bulk string. */
            char hdr[32];
            int hl = snprintf(hdr, sizeof hdr, "$%zu\r\n", n);
            buf_append(r->out, hdr, (size_t)hl);
            for (size_t i = 0; i < n; i++)
                buf_putc(r->out, (s[i] == '\r' || s[i] == '\n') ? ' ' : s[i]);
            buf_append(r->out, "\r\n", 2);
        }
        lua_pop(L, 1);
        return;
    }
    lua_pop(L, 1);
    if (raw_field(L, o, -1, F_VERBATIM) == LUA_TTABLE) {
        int ft = raw_field(L, o, -1, F_FORMAT);
        int st = raw_field(L, o, -2, F_STRING);
        if (ft == LUA_TSTRING && st == LUA_TSTRING) {
            size_t fl;
            const char *f = lua_tolstring(L, -2, &fl);
            s = lua_tolstring(L, -1, &n);
            reply_verbatim(r, s, n, fl == 3 ? f : "txt");
            lua_pop(L, 3);
            return;
        }
        lua_pop(L, 2);
    }
    lua_pop(L, 1);
    if (raw_field(L, o, -1, F_MAP) == LUA_TTABLE) {
        reply_map(r, table_pairs(L));
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            lua_pushvalue(L, -2); /* key copy: the original stays for lua_next */
            to_reply(L, o, depth + 1);
            to_reply(L, o, depth + 1);
        }
        lua_pop(L, 1);
        return;
    }
    lua_pop(L, 1);
    if (raw_field(L, o, -1, F_SET) == LUA_TTABLE) {
        reply_set(r, table_pairs(L));
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            lua_pop(L, 1);
            lua_pushvalue(L, -1);
            to_reply(L, o, depth + 1);
        }
        lua_pop(L, 1);
        return;
    }
    lua_pop(L, 1);
    /* An array, up to the first nil. */
    long cnt = 0;
    while (lua_rawgeti(L, -1, cnt + 1) != LUA_TNIL) {
        cnt++;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    reply_array(r, cnt);
    for (long i = 1; i <= cnt; i++) {
        lua_rawgeti(L, -1, i);
        to_reply(L, o, depth + 1);
    }
}

static void to_reply(lua_State *L, conv_out_t *o, int depth)
{
    reply_t *r = o->r;
    /* Every value writes a few bytes at least, so checking the length here
     * stops a reply that repeats a table (each copy is written out) after
     * about max_bytes of work; the caller throws the partial reply away. */
    if (o->over || r->out->len > o->end) {
        o->over = 1;
        lua_pop(L, 1);
        return;
    }
    if (++o->steps % 4096 == 0)
        engine_check_interrupt(L);
    if (depth > SCRIPT_MAX_DEPTH || !lua_checkstack(L, 4)) {
        reply_error(r, "ERR reached lua stack limit");
        lua_pop(L, 1);
        return;
    }
    size_t n;
    const char *s;
    switch (lua_type(L, -1)) {
    case LUA_TSTRING:
        s = lua_tolstring(L, -1, &n);
        reply_bulk(r, s, n);
        break;
    case LUA_TBOOLEAN:
        if (o->resp == 2) {
            if (lua_toboolean(L, -1))
                reply_int(r, 1);
            else
                reply_null(r);
        } else {
            reply_bool(r, lua_toboolean(L, -1));
        }
        break;
    case LUA_TNUMBER:
        reply_int(r, number_to_ll(L, -1));
        break;
    case LUA_TTABLE:
        table_to_reply(L, o, depth);
        break;
    default:
        reply_null(r);
        break;
    }
    lua_pop(L, 1);
}

int conv_lua_to_reply(lua_State *L, reply_t *r, int script_resp, size_t max_bytes)
{
    conv_out_t o = {.r = r, .resp = script_resp, .start = r->out->len};
    o.end = max_bytes && max_bytes < SIZE_MAX - o.start ? o.start + max_bytes : SIZE_MAX;
    uint64_t errors = r->errors;
    char err[sizeof r->err];
    memcpy(err, r->err, sizeof err);
    if (lua_type(L, -1) != LUA_TTABLE) { /* one value: no fields to look up */
        to_reply(L, &o, 0);
        return o.counted;
    }
    if (!lua_checkstack(L, F_COUNT + 4)) {
        lua_pop(L, 1);
        reply_error(r, "ERR reached lua stack limit");
        return 0;
    }
    o.names = lua_gettop(L);
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &names_key) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_createtable(L, F_COUNT, 0);
        for (int f = 0; f < F_COUNT; f++) {
            lua_pushstring(L, field_names[f]);
            lua_rawseti(L, -2, f + 1);
        }
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &names_key);
    }
    for (int f = 0; f < F_COUNT; f++)
        lua_rawgeti(L, o.names + 1, f + 1);
    lua_remove(L, o.names + 1);
    lua_rotate(L, o.names, -1); /* the value back on top, the names below */
    to_reply(L, &o, 0);
    lua_pop(L, F_COUNT);
    if (!o.over && r->out->len <= o.end)
        return o.counted;
    r->out->len = o.start;
    r->errors = errors;
    memcpy(r->err, err, sizeof err);
    return -1;
}
