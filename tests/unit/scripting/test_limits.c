/* Unit tests for the limits a script cannot escape through its libraries
 * (scripting/script_cjson.c, script_msgpack.c, script_conv.c and the
 * engine's accounting): cjson settings reset between scripts and depth
 * clamped; cjson.encode, cmsgpack.pack and the reply bounded by memory-limit;
 * SCRIPT KILL stopping them halfway; the state's memory back down after. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "command.h"
#include "config.h"
#include "script.h"
#include "script_internal.h"
#include "store.h"

#include "eval_harness.h"



static void assert_prefix(const char *s, const char *prefix)
{
    if (strncmp(s, prefix, strlen(prefix)) != 0)
        fail_msg("reply %s does not start with %s", s, prefix);
}

#define NOMEM_PREFIX "-ERR Error running script "
#define NOMEM_TAIL                                                                         \
    "not enough memory (the script allocated more than memory-limit, 8388608 bytes)\r\n"

static void assert_nomem(const char *reply)
{
    assert_prefix(reply, NOMEM_PREFIX);
    const char *tail = strstr(reply, ", not enough memory");
    if (!tail || strcmp(tail + 2, NOMEM_TAIL) != 0)
        fail_msg("not the memory error: %s", reply);
}

static void test_cjson_settings_reset(void **state)
{
    (void)state;
    assert_string_equal(eval("cjson.encode_number_precision(3) return cjson.encode(1/3)"),
                        "$5\r\n0.333\r\n");
    assert_string_equal(eval("return cjson.encode(1/3)"), "$16\r\n0.33333333333333\r\n");
    /* every setting, changed by one script, is the default in the next */
    eval("cjson.encode_sparse_array(true, 0, 1) cjson.encode_max_depth(5) "
         "cjson.decode_max_depth(7) cjson.encode_keep_buffer(false) "
         "cjson.encode_invalid_numbers('null') cjson.decode_invalid_numbers(false)");
    assert_string_equal(eval("local c, r, s = cjson.encode_sparse_array() "
                             "return {tostring(c), r, s, cjson.encode_max_depth(), "
                             "cjson.decode_max_depth(), tostring(cjson.encode_keep_buffer()), "
                             "tostring(cjson.encode_invalid_numbers()), "
                             "tostring(cjson.decode_invalid_numbers())}"),
                        "*8\r\n$5\r\nfalse\r\n:2\r\n:10\r\n:1000\r\n:1000\r\n$4\r\ntrue\r\n"
                        "$5\r\nfalse\r\n$4\r\ntrue\r\n");
    /* depth settings are clamped to CJSON_MAX_DEPTH */
    assert_string_equal(eval("return cjson.decode_max_depth(1000000)"), ":1000\r\n");
    assert_string_equal(eval("return cjson.encode_max_depth(2^40)"), ":1000\r\n");
    assert_string_equal(eval("return cjson.new().decode_max_depth(1000000)"), ":1000\r\n");
    /* the setters' own errors keep their name and the script's line */
    assert_prefix(eval("return cjson.encode_number_precision(16)"),
                  "-ERR user_script:1: bad argument #1 to 'encode_number_precision' (expected "
                  "integer between 1 and 14) script: ");
}

static void test_cjson_depth(void **state)
{
    (void)state;
    static const char *const attacks[] = {
        "cjson.decode_max_depth(1000000) "
        "return #cjson.decode(string.rep('[', 400000) .. string.rep(']', 400000))",
        "local c = cjson.new() c.decode_max_depth(1000000) "
        "return #c.decode(string.rep('[', 400000) .. string.rep(']', 400000))",
    };
    for (size_t i = 0; i < sizeof attacks / sizeof *attacks; i++)
        assert_prefix(eval(attacks[i]), "-ERR user_script:1: Found too many nested data "
                                        "structures (1001) at character 1001 script: ");
    assert_prefix(eval("cjson.encode_max_depth(1000000) local t = {} "
                       "for i = 1, 100000 do t = {t} end return cjson.encode(t)"),
                  "-ERR user_script:1: Cannot serialise, excessive nesting (1001) script: ");
    assert_string_equal(eval("return #cjson.decode(string.rep('[', 1000) .. string.rep(']', "
                             "1000))"),
                        ":1\r\n");
}

/* The encode walk's bound against the real output (script_cjson.c counts
 * the encodes it fell short of): shapes where a loose bound would be wrong
 * or a tight one tempting. */
static void test_cjson_bound_shapes(void **state)
{
    (void)state;
    static const char *const values[] = {
        "0", "-1", "1e300", "-1.2345678901234e-308", "123456789012345678", "2^63", "-2^63",
        "0.1", "1/3", "-0.00012345678901234", "1e15", "1e16 + 1", "12345", "-99999999999999",
        "'\\0\\1\\31\\127\"\\\\/ab'", "string.rep('\\1', 100)", "{}", "{{}, {{}}}",
        "{[1] = 1, [4] = 2}", "{[1] = 1, [100] = 2}", "{[1.5] = 1, [-2] = 2, [2^53] = 3}",
        "{a = {b = {c = {1, 2, 'x'}}}, [7] = true, [8] = false}", "{1, 2, nil, 4}",
        "{cjson.null, false, true}", "{[1e300] = 1}", "{[-1/3] = {1/3}}",
    };
    static const char *const settings[] = {
        "", "cjson.encode_number_precision(1) ", "cjson.encode_number_precision(3) ",
        "cjson.encode_sparse_array(true) ", "cjson.encode_sparse_array(false, 0) ",
        "cjson.encode_invalid_numbers(true) ",
    };
    char body[512];
    for (size_t i = 0; i < sizeof settings / sizeof *settings; i++)
        for (size_t j = 0; j < sizeof values / sizeof *values; j++) {
            snprintf(body, sizeof body,
                     "%slocal ok, j = pcall(cjson.encode, %s) return type(j)", settings[i],
                     values[j]);
            assert_string_equal(eval(body), "$6\r\nstring\r\n");
        }
    assert_string_equal(eval("cjson.encode_invalid_numbers(true) "
                             "return cjson.encode({1/0, -1/0, 0/0})"),
                        "$14\r\n[inf,-inf,nan]\r\n");
    assert_int_equal(cjsonlib_bound_misses(), 0);
}

static void test_encoders_bounded(void **state)
{
    (void)state;
    atomic_store(&cfg.memory_limit, 8 * 1024 * 1024);
    uint64_t before = script_lua_memory();
    assert_nomem(eval("local t = {1} for i = 1, 40 do t = {t, t, t, t, t, t, t, t} end "
                      "return #cmsgpack.pack(t)"));
    assert_nomem(eval("local t = {1} for i = 1, 40 do t = {t, t} end return #cjson.encode(t)"));
    assert_nomem(eval("local t = {} for i = 1, 100 do t[i] = t end "
                      "return #cjson.new().encode(t)"));
    /* a string escaped six times over counts as such */
    assert_nomem(eval("return #cjson.encode(string.rep('\\1', 2 * 1024 * 1024))"));
    /* sparse arrays: the nulls lua-cjson would write count */
    assert_nomem(eval("cjson.encode_sparse_array(false, 0) return #cjson.encode({[2^40] = 1})"));
    assert_string_equal(eval("cjson.encode_sparse_array(false, 0) "
                             "return cjson.encode({[1] = 1, [4] = 2})"),
                        "$15\r\n[1,null,null,2]\r\n");
    /* the script sees Lua's own memory error, catches it, and goes on */
    assert_string_equal(eval("local t = {1} for i = 1, 40 do t = {t, t} end "
                             "local ok, e = pcall(cjson.encode, t) "
                             "local w = {1} for i = 1, 40 do w = {w, w, w, w, w, w, w, w} end "
                             "local ok2, e2 = pcall(cmsgpack.pack, w) "
                             "return {tostring(ok), e, tostring(ok2), e2, "
                             "#string.rep('x', 1024 * 1024)}"),
                        "*5\r\n$5\r\nfalse\r\n$17\r\nnot enough memory\r\n$5\r\nfalse\r\n"
                        "$17\r\nnot enough memory\r\n:1048576\r\n");
    /* the reply itself: bounded, Redis's nesting error in place past the depth */
    const char *big = eval("local t = {1} for i = 1, 40 do t = {t, t} end return t");
    assert_prefix(big, "-ERR Error running script ");
    assert_string_equal(big + strlen("-ERR Error running script ") + 40,
                        ", not enough memory (the script's reply is larger than memory-limit, "
                        "8388608 bytes)\r\n");
    const char *self = eval("local t = {} t[1] = t return t");
    assert_prefix(self, "*1\r\n*1\r\n");
    assert_int_equal(eval_out.len, 4 * 1001 + strlen("-ERR reached lua stack limit\r\n"));
    /* legitimate sizes still work, and a big string returns */
    assert_string_equal(eval("local t = {} for i = 1, 10000 do t[i] = {i, 'v' .. i} end "
                             "local j = cjson.encode(t) local m = cmsgpack.pack(t) "
                             "return {#j, cjson.decode(j)[10000][2], cmsgpack.unpack(m)[9999][1]}"),
                        "*3\r\n:147789\r\n$6\r\nv10000\r\n:9999\r\n");
    assert_string_equal(eval("return #string.rep('x', 2 * 1024 * 1024)"), ":2097152\r\n");
    /* the garbage of those scripts is gone */
    assert_true(script_lua_memory() < before + 1024 * 1024);
    atomic_store(&cfg.memory_limit, 64 * 1024 * 1024);
}

/* ---- SCRIPT KILL while C code runs ------------------------------------------ */

static char kill_reply[128];

static void *killer(void *arg)
{
    (void)arg;
    usleep(150 * 1000);
    buf_t b;
    buf_init(&b);
    reply_t r = {.out = &b, .proto = 2};
    script_kill(&r);
    buf_putc(&b, '\0');
    snprintf(kill_reply, sizeof kill_reply, "%s", b.data);
    buf_free(&b);
    return NULL;
}

static void test_kill_in_c(void **state)
{
    (void)state;
    atomic_store(&cfg.busy_reply_threshold, 20);
    atomic_store(&cfg.memory_limit, 4ull << 30); /* time, not memory, must stop them */
    static const char *const slow[] = {
        /* the tables are built fast; the C code walking them is what is slow */
        "local t = {1} for i = 1, 40 do t = {t, t, t, t, t, t, t, t} end return #cmsgpack.pack(t)",
        "local t = {1} for i = 1, 40 do t = {t, t} end return #cjson.encode(t)",
        "local t = {1} for i = 1, 40 do t = {t, t} end return t",
    };
    for (size_t i = 0; i < sizeof slow / sizeof *slow; i++) {
        pthread_t t;
        kill_reply[0] = '\0';
        pthread_create(&t, NULL, killer, NULL);
        uint64_t t0 = mono_us();
        const char *res = eval(slow[i]);
        uint64_t took = mono_us() - t0;
        pthread_join(t, NULL);
        assert_prefix(res, "-ERR Script killed by user with SCRIPT KILL...");
        assert_string_equal(kill_reply, "+OK\r\n");
        if (took > 1500 * 1000)
            fail_msg("script %zu stopped %llu ms after it started", i,
                     (unsigned long long)(took / 1000));
    }
    atomic_store(&cfg.memory_limit, 64 * 1024 * 1024);
    assert_true(script_lua_memory() < 4 * 1024 * 1024);
    assert_string_equal(eval("return 'alive'"), "$5\r\nalive\r\n");
    atomic_store(&cfg.busy_reply_threshold, 5000);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, eval_setup, eval_teardown)
    const struct CMUnitTest tests[] = {
        T(test_cjson_settings_reset),
        T(test_cjson_depth),
        T(test_cjson_bound_shapes),
        T(test_encoders_bounded),
        T(test_kill_in_c),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
