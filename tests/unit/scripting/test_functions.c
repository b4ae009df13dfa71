/* Unit tests for the function registry's API for FUNCTION DUMP / RESTORE
 * (script.h: function_each_code, function_restore): load order, the three
 * policies, all-or-nothing on a bad library or a clash; and FCALL seeing what
 * a restore registered (through command_call, as a client's command). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "all_commands.h"
#include "command.h"
#include "config.h"
#include "script.h"
#include "store.h"

static buf_t out;
static char text[8192];

static int setup(void **state)
{
    (void)state;
    config_defaults();
    store_setup(8, 16);
    store_set_maxmemory(0, MAXMEM_NOEVICTION, 5);
    command_setup(all_commands);
    buf_init(&out);
    function_flush();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    function_flush();
    script_teardown();
    command_stats_teardown();
    command_teardown();
    store_teardown();
    buf_free(&out);
    return 0;
}

/* FCALL name 0, as a client's command; the reply's text. */
static const char *fcall(const char *name)
{
    sv_t argv[3] = {{"fcall", 5}, {name, strlen(name)}, {"0", 1}};
    out.len = 0;
    reply_t r = {.out = &out, .proto = 2};
    cmd_ctx_t c = {.argc = 3, .argv = argv, .r = &r, .cmd = command_lookup(argv[0]),
                   .worker = -1};
    command_call(&c, 0);
    size_t n = out.len < sizeof text - 1 ? out.len : sizeof text - 1;
    memcpy(text, out.data, n);
    text[n] = '\0';
    return text;
}

static char libtext[4][256];

static sv_t code(int slot, const char *lib, const char *fn, int value)
{
    snprintf(libtext[slot], sizeof libtext[slot],
             "#!lua name=%s\nredis.register_function('%s', function() return %d end)", lib, fn,
             value);
    return (sv_t){libtext[slot], strlen(libtext[slot])};
}

static int collect(void *arg, const char *p, size_t n)
{
    buf_t *b = arg;
    buf_append(b, p, n);
    buf_putc(b, '|');
    return 0;
}

static const char *all_codes(buf_t *b)
{
    b->len = 0;
    function_each_code(collect, b);
    buf_putc(b, '\0');
    return b->data;
}

static void test_restore_policies(void **state)
{
    (void)state;
    char err[256];
    buf_t b;
    buf_init(&b);
    sv_t two[2] = {code(0, "la", "fa", 1), code(1, "lb", "fb", 2)};
    assert_int_equal(function_restore(two, 2, FUNC_POLICY_APPEND, err, sizeof err), 0);
    assert_string_equal(fcall("fa"), ":1\r\n");
    assert_string_equal(fcall("fb"), ":2\r\n");
    /* Load order, whole codes. */
    char want[600];
    snprintf(want, sizeof want, "%s|%s|", libtext[0], libtext[1]);
    assert_string_equal(all_codes(&b), want);

    /* APPEND onto an existing name: refused, nothing changes. */
    sv_t again[2] = {code(2, "lc", "fc", 3), code(3, "la", "fa", 9)};
    assert_int_equal(function_restore(again, 2, FUNC_POLICY_APPEND, err, sizeof err), -1);
    assert_string_equal(err, "ERR Library la already exists");
    assert_string_equal(fcall("fc"), "-ERR Function not found\r\n");
    assert_string_equal(fcall("fa"), ":1\r\n");

    /* REPLACE: la replaced, lc added, lb kept. */
    assert_int_equal(function_restore(again, 2, FUNC_POLICY_REPLACE, err, sizeof err), 0);
    assert_string_equal(fcall("fa"), ":9\r\n");
    assert_string_equal(fcall("fb"), ":2\r\n");
    assert_string_equal(fcall("fc"), ":3\r\n");

    /* A clash with a function another library keeps: all refused. */
    sv_t clash[2] = {code(0, "ld", "fd", 4), code(1, "le", "fb", 5)};
    assert_int_equal(function_restore(clash, 2, FUNC_POLICY_REPLACE, err, sizeof err), -1);
    assert_string_equal(err, "ERR Function fb already exists");
    assert_string_equal(fcall("fd"), "-ERR Function not found\r\n");

    /* FLUSH: only the restored ones remain (the clash is gone with lb). */
    assert_int_equal(function_restore(clash, 2, FUNC_POLICY_FLUSH, err, sizeof err), 0);
    assert_string_equal(fcall("fa"), "-ERR Function not found\r\n");
    assert_string_equal(fcall("fd"), ":4\r\n");
    assert_string_equal(fcall("fb"), ":5\r\n");
    snprintf(want, sizeof want, "%s|%s|", libtext[0], libtext[1]);
    assert_string_equal(all_codes(&b), want);
    buf_free(&b);
}

static void test_restore_validates_everything_first(void **state)
{
    (void)state;
    char err[256];
    sv_t good = code(0, "ok", "okf", 1);
    const char *bad = "#!lua name=bad\nredis.call('ping')";
    sv_t set[2] = {good, {bad, strlen(bad)}};
    assert_int_equal(function_restore(set, 2, FUNC_POLICY_FLUSH, err, sizeof err), -1);
    assert_string_equal(err, "ERR Error registering functions: ERR user_function:2: Script "
                             "attempted to access nonexistent global variable 'call'");
    assert_string_equal(fcall("okf"), "-ERR Function not found\r\n");
    /* Two libraries of one name in one set. */
    sv_t dup[2] = {code(0, "same", "f1", 1), code(1, "same", "f2", 2)};
    assert_int_equal(function_restore(dup, 2, FUNC_POLICY_APPEND, err, sizeof err), -1);
    assert_string_equal(err, "ERR Library same already exists");
    const char *nometa = "return 1";
    sv_t one = {nometa, strlen(nometa)};
    assert_int_equal(function_restore(&one, 1, FUNC_POLICY_APPEND, err, sizeof err), -1);
    assert_string_equal(err, "ERR Missing library metadata");
    assert_int_equal(function_restore(NULL, 0, FUNC_POLICY_FLUSH, err, sizeof err), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_restore_policies),
        T(test_restore_validates_everything_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
