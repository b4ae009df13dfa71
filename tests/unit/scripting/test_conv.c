/* Unit tests for Lua <-> RESP conversion (scripting/script_conv.c): the
 * reply parser that turns a command's RESP2/RESP3 reply into Lua values,
 * and the composer of a script's result, on a bare lua_State and buffers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lualib.h>

#include "script_internal.h"

static lua_State *L;
static lstate_t idle; /* no script running: engine_check_interrupt does nothing */

static int setup(void **state)
{
    (void)state;
    L = luaL_newstate();
    *(lstate_t **)lua_getextraspace(L) = &idle;
    luaL_openlibs(L);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    lua_close(L);
    return 0;
}

/* Parse text and check all of it was used. */
static void parse_ok(const char *text)
{
    size_t n = strlen(text);
    char *copy = malloc(n ? n : 1); /* exact size: ASan sees any overread */
    memcpy(copy, text, n);
    int top = lua_gettop(L);
    assert_int_equal(conv_reply_to_lua(L, copy, n), n);
    assert_int_equal(lua_gettop(L), top + 1);
    free(copy);
}

static void parse_bad(const char *text, size_t n)
{
    char *copy = malloc(n ? n : 1);
    memcpy(copy, text, n);
    int top = lua_gettop(L);
    assert_int_equal(conv_reply_to_lua(L, copy, n), 0);
    assert_int_equal(lua_gettop(L), top);
    free(copy);
}

/* Evaluate a Lua expression over the parsed value (as `v`) to a string. */
static void expect(const char *reply, const char *expr, const char *want)
{
    parse_ok(reply);
    lua_setglobal(L, "v");
    char code[512];
    snprintf(code, sizeof code, "return tostring(%s)", expr);
    assert_int_equal(luaL_dostring(L, code), LUA_OK);
    assert_string_equal(lua_tostring(L, -1), want);
    lua_pop(L, 1);
}

static void test_resp2_to_lua(void **state)
{
    (void)state;
    expect(":42\r\n", "math.type(v) .. ' ' .. v", "integer 42");
    expect(":-9223372036854775808\r\n", "v", "-9223372036854775808");
    expect("$5\r\nhello\r\n", "v", "hello");
    expect("$0\r\n\r\n", "#v", "0");
    expect("$4\r\na\r\nb\r\n", "v == 'a\\r\\nb'", "true");
    expect("$-1\r\n", "v", "false");
    expect("*-1\r\n", "v", "false");
    expect("+OK\r\n", "v.ok", "OK");
    expect("-ERR bad thing\r\n", "v.err", "ERR bad thing");
    expect("*3\r\n:1\r\n$1\r\na\r\n*1\r\n:2\r\n", "v[1] .. v[2] .. v[3][1] .. #v", "1a23");
    expect("*2\r\n$-1\r\n:7\r\n", "tostring(v[1]) .. v[2]", "false7");
    expect("*0\r\n", "#v", "0");
}

static void test_resp3_to_lua(void **state)
{
    (void)state;
    expect("%2\r\n$1\r\nk\r\n$1\r\nv\r\n$1\r\nn\r\n:3\r\n", "v.map.k .. v.map.n", "v3");
    expect("~2\r\n$1\r\na\r\n$1\r\nb\r\n", "tostring(v.set.a and v.set.b)", "true");
    expect("_\r\n", "v", "nil");
    expect("#t\r\n", "v", "true");
    expect("#f\r\n", "v", "false");
    expect(",3.5\r\n", "v.double", "3.5");
    expect(",inf\r\n", "v.double", "inf");
    expect("(1234567999999999999999999999999999999\r\n", "v.big_number",
           "1234567999999999999999999999999999999");
    expect("=8\r\ntxt:abcd\r\n", "v.verbatim_string.format .. '|' .. v.verbatim_string.string",
           "txt|abcd");
    /* an attribute is read and dropped: the reply is what follows it */
    expect("|1\r\n+ttl\r\n:3600\r\n$4\r\nreal\r\n", "v", "real");
    expect(">2\r\n$7\r\nmessage\r\n:1\r\n", "v[1] .. v[2]", "message1");
    expect("!9\r\nERR oops!\r\n", "v.err", "ERR oops!");
    /* a null map key cannot be a Lua key: the pair is dropped */
    expect("%2\r\n_\r\n:1\r\n$1\r\nk\r\n:2\r\n", "v.map.k", "2");
    expect("*3\r\n:1\r\n_\r\n:3\r\n", "tostring(v[2]) .. v[3]", "nil3");
}

static void test_parse_malformed(void **state)
{
    (void)state;
    static const char *bad[] = {
        "", "$5\r\nhel", "$5\r\nhello", "*2\r\n:1\r\n", ":12", ":1x\r\n", "?\r\n", "#x\r\n",
        "=2\r\nab\r\n", ",1.5x\r\n", "%1\r\n:1\r\n", "$-\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        parse_bad(bad[i], strlen(bad[i]));
    /* nesting deeper than SCRIPT_MAX_DEPTH is refused, not recursed into */
    buf_t b;
    buf_init(&b);
    for (int i = 0; i < SCRIPT_MAX_DEPTH + 10; i++)
        buf_append(&b, "*1\r\n", 4);
    buf_append(&b, ":1\r\n", 4);
    parse_bad(b.data, b.len);
    buf_free(&b);
    /* a count larger than the input cannot make a huge table */
    parse_bad("*2000000000\r\n:1\r\n", 17);
}

/* Run code (returning one value) and convert its result. */
static char out_text[4096];

static const char *to_resp(const char *code, int script_resp, int client_proto)
{
    buf_t b;
    buf_init(&b);
    reply_t r = {.out = &b, .proto = client_proto, .errors = 0};
    assert_int_equal(luaL_loadstring(L, code), LUA_OK);
    assert_int_equal(lua_pcall(L, 0, 1, 0), LUA_OK);
    int top = lua_gettop(L);
    assert_true(conv_lua_to_reply(L, &r, script_resp, 0) >= 0);
    assert_int_equal(lua_gettop(L), top - 1);
    size_t n = b.len < sizeof out_text - 1 ? b.len : sizeof out_text - 1;
    memcpy(out_text, b.data, n);
    out_text[n] = '\0';
    buf_free(&b);
    return out_text;
}

static void test_lua_to_resp2(void **state)
{
    (void)state;
    assert_string_equal(to_resp("return 'hello'", 2, 2), "$5\r\nhello\r\n");
    assert_string_equal(to_resp("return 100.5", 2, 2), ":100\r\n");
    assert_string_equal(to_resp("return -3.9", 2, 2), ":-3\r\n");
    assert_string_equal(to_resp("return 9007199254740993", 2, 2), ":9007199254740993\r\n");
    assert_string_equal(to_resp("return true", 2, 2), ":1\r\n");
    assert_string_equal(to_resp("return false", 2, 2), "$-1\r\n");
    assert_string_equal(to_resp("return nil", 2, 2), "$-1\r\n");
    assert_string_equal(to_resp("return {ok='fine'}", 2, 2), "+fine\r\n");
    assert_string_equal(to_resp("return {ok='a\\r\\nb'}", 2, 2), "+a  b\r\n");
    assert_string_equal(to_resp("return {err='ERR this is an error'}", 2, 2),
                        "-ERR this is an error\r\n");
    /* err wins over ok, whatever the order they were written in */
    assert_string_equal(to_resp("return {ok='x', err='E y'}", 2, 2), "-E y\r\n");
    /* a non-string err or ok is ignored */
    assert_string_equal(to_resp("return {err=1, 7}", 2, 2), "*1\r\n:7\r\n");
    assert_string_equal(to_resp("return {1,2,3,'ciao',{1,2}}", 2, 2),
                        "*5\r\n:1\r\n:2\r\n:3\r\n$4\r\nciao\r\n*2\r\n:1\r\n:2\r\n");
    assert_string_equal(to_resp("return {1,2,nil,4}", 2, 2), "*2\r\n:1\r\n:2\r\n");
    assert_string_equal(to_resp("return {}", 2, 2), "*0\r\n");
    assert_string_equal(to_resp("return {double=3.5}", 2, 2), "$3\r\n3.5\r\n");
    assert_string_equal(to_resp("return {big_number='123\\r\\n123'}", 2, 2),
                        "$8\r\n123  123\r\n");
    assert_string_equal(to_resp("return {map={a=1}}", 3, 2), "*2\r\n$1\r\na\r\n:1\r\n");
    assert_string_equal(to_resp("return {set={a=true}}", 3, 2), "*1\r\n$1\r\na\r\n");
    assert_string_equal(to_resp("return print", 2, 2), "$-1\r\n");
    /* metamethods are never called */
    assert_string_equal(
        to_resp("local a = {} setmetatable(a, {__index=function() error('x') end}) return a", 2, 2),
        "*0\r\n");
}

static void test_lua_to_resp3(void **state)
{
    (void)state;
    assert_string_equal(to_resp("return false", 2, 3), "_\r\n");
    assert_string_equal(to_resp("return true", 2, 3), ":1\r\n");
    assert_string_equal(to_resp("return true", 3, 3), "#t\r\n");
    assert_string_equal(to_resp("return false", 3, 3), "#f\r\n");
    assert_string_equal(to_resp("return true", 3, 2), ":1\r\n");
    assert_string_equal(to_resp("return false", 3, 2), ":0\r\n");
    assert_string_equal(to_resp("return nil", 3, 3), "_\r\n");
    assert_string_equal(to_resp("return {map={a=1}}", 3, 3), "%1\r\n$1\r\na\r\n:1\r\n");
    assert_string_equal(to_resp("return {set={x=true}}", 3, 3), "~1\r\n$1\r\nx\r\n");
    assert_string_equal(to_resp("return {double=3.5}", 3, 3), ",3.5\r\n");
    assert_string_equal(to_resp("return {big_number='123\\r\\n123'}", 3, 3), "(123  123\r\n");
    assert_string_equal(
        to_resp("return {verbatim_string={format='txt', string='hi'}}", 3, 3), "=6\r\ntxt:hi\r\n");
    assert_string_equal(
        to_resp("return {verbatim_string={format='txt', string='hi'}}", 3, 2), "$2\r\nhi\r\n");
}

static void test_self_reference(void **state)
{
    (void)state;
    const char *s = to_resp("local a = {} local b = {a} a[1] = b return a", 2, 2);
    /* "*1\r\n" as deep as allowed, then the error in place of the next level */
    const char *err = strstr(s, "-ERR reached lua stack limit\r\n");
    if (!err) { /* the whole reply does not fit out_text: check its start */
        assert_memory_equal(s, "*1\r\n*1\r\n*1\r\n", 12);
        return;
    }
    for (const char *p = s; p < err; p += 4)
        assert_memory_equal(p, "*1\r\n", 4);
}

/* A reply bigger than max_bytes is not written: the buffer (holding an
 * earlier reply here) and the error counts are as they were. */
static void test_reply_bound(void **state)
{
    (void)state;
    static const char *const big[] = {
        /* every element is the table itself: 100^1000 elements */
        "local t = {} for i = 1, 100 do t[i] = t end return t",
        /* a doubling tree 40 levels deep, errors at its leaves */
        "local t = {err = 'E leaf'} for i = 1, 40 do t = {t, t} end return t",
        "local t = {} for i = 1, 10 do t[i] = string.rep('x', 100) end return t",
    };
    for (size_t i = 0; i < sizeof big / sizeof *big; i++) {
        buf_t b;
        buf_init(&b);
        buf_append(&b, "+PRE\r\n", 6);
        reply_t r = {.out = &b, .proto = 2, .errors = 3};
        memcpy(r.err, "OLD", 4);
        assert_int_equal(luaL_dostring(L, big[i]), LUA_OK);
        int top = lua_gettop(L);
        assert_int_equal(conv_lua_to_reply(L, &r, 2, 1000), -1);
        assert_int_equal(lua_gettop(L), top - 1);
        assert_int_equal(b.len, 6);
        assert_memory_equal(b.data, "+PRE\r\n", 6);
        assert_int_equal(r.errors, 3);
        assert_string_equal(r.err, "OLD");
        buf_free(&b);
    }
    /* at or under the bound: written whole */
    buf_t b;
    buf_init(&b);
    reply_t r = {.out = &b, .proto = 2};
    assert_int_equal(luaL_dostring(L, "return {1, 'ab', {err = 'E x'}}"), LUA_OK);
    assert_int_equal(conv_lua_to_reply(L, &r, 2, 22), 0);
    assert_int_equal(b.len, 22);
    assert_memory_equal(b.data, "*3\r\n:1\r\n$2\r\nab\r\n-E x\r\n", 22);
    assert_int_equal(r.errors, 1);
    buf_free(&b);
    /* the self-reference stops at SCRIPT_MAX_DEPTH, well under a megabyte */
    buf_init(&b);
    r = (reply_t){.out = &b, .proto = 2};
    assert_int_equal(luaL_dostring(L, "local a = {} a[1] = a return a"), LUA_OK);
    assert_int_equal(conv_lua_to_reply(L, &r, 2, 1 << 20), 0);
    assert_int_equal(b.len,
                     4 * (SCRIPT_MAX_DEPTH + 1) + strlen("-ERR reached lua stack limit\r\n"));
    assert_int_equal(r.errors, 1);
    buf_free(&b);
}

static void test_push_error(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"-WRONGTYPE Operation against a key\r\n", "WRONGTYPE Operation against a key"},
        {"-FOO", "ERR FOO"},
        {"-", "ERR "},
        {"plain message", "ERR plain message"},
        {"-OOM command not allowed.", "OOM command not allowed."},
        {"-X\r\n+INJECTED", "ERR X\r\n+INJECTED"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        conv_push_error(L, cases[i].in, strlen(cases[i].in));
        lua_getfield(L, -1, "err");
        assert_string_equal(lua_tostring(L, -1), cases[i].want);
        lua_pop(L, 2);
    }
}

static void test_number_args(void **state)
{
    (void)state;
    static const struct {
        const char *expr, *want;
    } cases[] = {
        {"3", "3"},         {"3.0", "3"},     {"0.1", "0.10000000000000001"},
        {"-2.5", "-2.5"},   {"1e20", "1e+20"}, {"9007199254740993", "9007199254740993"},
        {"1/3", "0.33333333333333331"},       {"2^53", "9007199254740992"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char code[64], buf[32];
        snprintf(code, sizeof code, "return %s", cases[i].expr);
        assert_int_equal(luaL_dostring(L, code), LUA_OK);
        int n = conv_number_arg(L, -1, buf);
        assert_int_equal(n, (int)strlen(cases[i].want));
        assert_string_equal(buf, cases[i].want);
        lua_pop(L, 1);
    }
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_resp2_to_lua),    T(test_resp3_to_lua),  T(test_parse_malformed),
        T(test_lua_to_resp2),    T(test_lua_to_resp3),  T(test_self_reference),
        T(test_push_error),      T(test_number_args),   T(test_reply_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
