/* Unit tests for resp's reply composer: statuses, errors, integers, bulks,
 * doubles, booleans and nulls, aggregates, verbatim strings and deferred
 * lengths, in RESP2 and RESP3, and the reply size limit. */
#include "resp_harness.h"

/* A reply writer over a fresh buffer. */
typedef struct rcase {
    buf_t out;
    reply_t r;
} rcase_t;

static void rc_init(rcase_t *c, int proto)
{
    buf_init(&c->out);
    c->r = (reply_t){.out = &c->out, .proto = proto};
}

static void rc_reset(rcase_t *c)
{
    c->out.len = 0;
}

/* ---- composer ----------------------------------------------------------- */

static void test_reply_status_ok(void **state)
{
    (void)state;
    for (int proto = 2; proto <= 3; proto++) {
        rcase_t c;
        rc_init(&c, proto);
        reply_status(&c.r, "PONG");
        OUT_EQ(&c.out, "+PONG\r\n");
        rc_reset(&c);
        reply_status(&c.r, "");
        OUT_EQ(&c.out, "+\r\n");
        rc_reset(&c);
        reply_ok(&c.r);
        OUT_EQ(&c.out, "+OK\r\n");
        assert_int_equal(c.r.errors, 0);
        buf_free(&c.out);
    }
}

static void test_reply_error(void **state)
{
    (void)state;
    for (int proto = 2; proto <= 3; proto++) {
        rcase_t c;
        rc_init(&c, proto);
        reply_error(&c.r, "ERR unknown command");
        OUT_EQ(&c.out, "-ERR unknown command\r\n");
        assert_int_equal(c.r.errors, 1);

        rc_reset(&c);
        reply_error(&c.r, "ERR bad\r\nthing\rhere\n");
        OUT_EQ(&c.out, "-ERR bad  thing here \r\n");
        assert_int_equal(c.r.errors, 2);

        rc_reset(&c);
        reply_error(&c.r, "-WRONGTYPE Operation");
        OUT_EQ(&c.out, "-WRONGTYPE Operation\r\n");
        assert_int_equal(c.r.errors, 3);
        buf_free(&c.out);
    }
}

static void test_reply_errorf(void **state)
{
    (void)state;
    rcase_t c;
    rc_init(&c, 2);

    reply_errorf(&c.r, "ERR unknown command '%s', with args beginning with: %d", "FOO", 7);
    OUT_EQ(&c.out, "-ERR unknown command 'FOO', with args beginning with: 7\r\n");
    assert_int_equal(c.r.errors, 1);

    rc_reset(&c);
    reply_errorf(&c.r, "ERR %s", "x\ny\r");
    OUT_EQ(&c.out, "-ERR x y \r\n");
    assert_int_equal(c.r.errors, 2);

    /* longer than any stack buffer */
    char arg[1001];
    memset(arg, 'z', 1000);
    arg[1000] = '\0';
    rc_reset(&c);
    reply_errorf(&c.r, "ERR [%s]", arg);
    assert_int_equal(c.out.len, 1 + 4 + 1 + 1000 + 1 + 2);
    assert_memory_equal(c.out.data, "-ERR [zzz", 9);
    assert_memory_equal(c.out.data + c.out.len - 5, "zz]\r\n", 5);
    assert_int_equal(c.r.errors, 3);
    buf_free(&c.out);
}

static void test_reply_int(void **state)
{
    (void)state;
    static const struct {
        long long v;
        const char *out;
    } cases[] = {
        {0, ":0\r\n"},
        {1, ":1\r\n"},
        {9, ":9\r\n"},
        {10, ":10\r\n"},
        {99, ":99\r\n"},
        {100, ":100\r\n"},
        {101, ":101\r\n"},
        {1000, ":1000\r\n"},
        {12345, ":12345\r\n"},
        {-1, ":-1\r\n"},
        {-10, ":-10\r\n"},
        {-123, ":-123\r\n"},
        {1234567890123LL, ":1234567890123\r\n"},
        {LLONG_MAX, ":9223372036854775807\r\n"},
        {LLONG_MIN, ":-9223372036854775808\r\n"},
        {LLONG_MIN + 1, ":-9223372036854775807\r\n"},
    };

    for (int proto = 2; proto <= 3; proto++) {
        rcase_t c;
        rc_init(&c, proto);
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
            rc_reset(&c);
            reply_int(&c.r, cases[i].v);
            assert_bytes(c.out.data, c.out.len, cases[i].out, strlen(cases[i].out));
        }
        buf_free(&c.out);
    }

    /* every value in a range against printf */
    rcase_t c;
    rc_init(&c, 2);
    for (long long v = -2000; v <= 200000; v += (v > 2000 ? 7 : 1)) {
        char exp[32];
        int n = snprintf(exp, sizeof exp, ":%lld\r\n", v);
        rc_reset(&c);
        reply_int(&c.r, v);
        assert_bytes(c.out.data, c.out.len, exp, (size_t)n);
    }
    buf_free(&c.out);
}

static void test_reply_bulk(void **state)
{
    (void)state;
    for (int proto = 2; proto <= 3; proto++) {
        rcase_t c;
        rc_init(&c, proto);

        reply_bulk(&c.r, "hello", 5);
        OUT_EQ(&c.out, "$5\r\nhello\r\n");

        rc_reset(&c);
        reply_bulk(&c.r, "", 0);
        OUT_EQ(&c.out, "$0\r\n\r\n");

        rc_reset(&c);
        reply_bulk(&c.r, "a\0\r\nb", 5);
        OUT_EQ(&c.out, "$5\r\na\0\r\nb\r\n");

        rc_reset(&c);
        reply_bulk(&c.r, "0123456789", 10);
        OUT_EQ(&c.out, "$10\r\n0123456789\r\n");

        rc_reset(&c);
        reply_bulk_cstr(&c.r, "abc");
        OUT_EQ(&c.out, "$3\r\nabc\r\n");

        rc_reset(&c);
        reply_bulk_ll(&c.r, 0);
        reply_bulk_ll(&c.r, -42);
        reply_bulk_ll(&c.r, LLONG_MIN);
        OUT_EQ(&c.out, "$1\r\n0\r\n$3\r\n-42\r\n$20\r\n-9223372036854775808\r\n");

        /* appends after what is already there */
        rc_reset(&c);
        reply_ok(&c.r);
        reply_bulk(&c.r, "x", 1);
        OUT_EQ(&c.out, "+OK\r\n$1\r\nx\r\n");
        buf_free(&c.out);
    }

    rcase_t c;
    rc_init(&c, 2);
    reply_bulk_cstr(&c.r, NULL);
    OUT_EQ(&c.out, "$-1\r\n");
    buf_free(&c.out);
    rc_init(&c, 3);
    reply_bulk_cstr(&c.r, NULL);
    OUT_EQ(&c.out, "_\r\n");
    buf_free(&c.out);

    /* a value much larger than the buffer's first allocation */
    const size_t n = 300000;
    char *v = malloc(n);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++)
        v[i] = (char)(i * 7);
    rc_init(&c, 2);
    reply_bulk(&c.r, v, n);
    assert_int_equal(c.out.len, 9 + n + 2);
    assert_memory_equal(c.out.data, "$300000\r\n", 9);
    assert_memory_equal(c.out.data + 9, v, n);
    assert_memory_equal(c.out.data + 9 + n, "\r\n", 2);
    free(v);
    buf_free(&c.out);
}

static void test_format_double(void **state)
{
    (void)state;
    static const struct {
        double d;
        const char *s;
    } cases[] = {
        {0.0, "0"},
        {-0.0, "-0"},
        {1.0, "1"},
        {1.5, "1.5"},
        {-2.25, "-2.25"},
        {10.5, "10.5"},
        {0.1, "0.10000000000000001"},
        {3.0e100, "2.9999999999999999e+100"},
        {1e300, "1.0000000000000001e+300"},
        {123456789012345678.0, "1.2345678901234568e+17"},
        {-1.7976931348623157e308, "-1.7976931348623157e+308"},
        {5e-324, "4.9406564584124654e-324"},
    };
    char buf[40];

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int n = resp_format_double(buf, cases[i].d);
        assert_bytes(buf, (size_t)n, cases[i].s, strlen(cases[i].s));
        assert_int_equal(buf[n], '\0');
    }
    assert_int_equal(resp_format_double(buf, INFINITY), 3);
    assert_string_equal(buf, "inf");
    assert_int_equal(resp_format_double(buf, -INFINITY), 4);
    assert_string_equal(buf, "-inf");
    assert_int_equal(resp_format_double(buf, NAN), 3);
    assert_string_equal(buf, "nan");
    assert_int_equal(resp_format_double(buf, -NAN), 3);
    assert_string_equal(buf, "nan");
}

static void test_reply_double(void **state)
{
    (void)state;
    rcase_t c;

    rc_init(&c, 2);
    reply_double(&c.r, 1.5);
    reply_double(&c.r, 0.1);
    reply_double(&c.r, INFINITY);
    reply_double(&c.r, -INFINITY);
    reply_double(&c.r, NAN);
    reply_double(&c.r, 0);
    OUT_EQ(&c.out, "$3\r\n1.5\r\n$19\r\n0.10000000000000001\r\n$3\r\ninf\r\n"
                   "$4\r\n-inf\r\n$3\r\nnan\r\n$1\r\n0\r\n");
    buf_free(&c.out);

    rc_init(&c, 3);
    reply_double(&c.r, 1.5);
    reply_double(&c.r, 0.1);
    reply_double(&c.r, INFINITY);
    reply_double(&c.r, -INFINITY);
    reply_double(&c.r, NAN);
    reply_double(&c.r, -3e-5);
    OUT_EQ(&c.out, ",1.5\r\n,0.10000000000000001\r\n,inf\r\n,-inf\r\n,nan\r\n"
                   ",-3.0000000000000001e-05\r\n");
    buf_free(&c.out);
}

static void test_reply_bulk_double(void **state)
{
    (void)state;
    for (int proto = 2; proto <= 3; proto++) {
        rcase_t c;
        rc_init(&c, proto);
        reply_bulk_double(&c.r, 10.5);
        reply_bulk_double(&c.r, 5.0e3);
        reply_bulk_double(&c.r, 0.1);
        reply_bulk_double(&c.r, INFINITY);
        OUT_EQ(&c.out, "$4\r\n10.5\r\n$4\r\n5000\r\n$19\r\n0.10000000000000001\r\n"
                       "$3\r\ninf\r\n");
        buf_free(&c.out);
    }
}

static void test_reply_bool_null(void **state)
{
    (void)state;
    rcase_t c;

    rc_init(&c, 2);
    reply_bool(&c.r, 1);
    reply_bool(&c.r, 0);
    reply_bool(&c.r, 42);
    reply_null(&c.r);
    reply_null_array(&c.r);
    OUT_EQ(&c.out, ":1\r\n:0\r\n:1\r\n$-1\r\n*-1\r\n");
    buf_free(&c.out);

    rc_init(&c, 3);
    reply_bool(&c.r, 1);
    reply_bool(&c.r, 0);
    reply_bool(&c.r, 42);
    reply_null(&c.r);
    reply_null_array(&c.r);
    OUT_EQ(&c.out, "#t\r\n#f\r\n#t\r\n_\r\n_\r\n");
    buf_free(&c.out);
}

static void test_reply_aggregates(void **state)
{
    (void)state;
    rcase_t c;

    rc_init(&c, 2);
    reply_array(&c.r, 3);
    reply_array(&c.r, 0);
    reply_array(&c.r, 12);
    reply_map(&c.r, 2);
    reply_map(&c.r, 0);
    reply_map(&c.r, 5);
    reply_set(&c.r, 4);
    reply_set(&c.r, 11);
    reply_push(&c.r, 3);
    reply_push(&c.r, 100);
    OUT_EQ(&c.out, "*3\r\n*0\r\n*12\r\n*4\r\n*0\r\n*10\r\n*4\r\n*11\r\n*3\r\n*100\r\n");
    buf_free(&c.out);

    rc_init(&c, 3);
    reply_array(&c.r, 3);
    reply_array(&c.r, 0);
    reply_array(&c.r, 12);
    reply_map(&c.r, 2);
    reply_map(&c.r, 0);
    reply_map(&c.r, 5);
    reply_set(&c.r, 4);
    reply_set(&c.r, 11);
    reply_push(&c.r, 3);
    reply_push(&c.r, 100);
    OUT_EQ(&c.out, "*3\r\n*0\r\n*12\r\n%2\r\n%0\r\n%5\r\n~4\r\n~11\r\n>3\r\n>100\r\n");
    buf_free(&c.out);

    /* a whole map reply, both ways */
    rc_init(&c, 2);
    reply_map(&c.r, 1);
    reply_bulk_cstr(&c.r, "k");
    reply_int(&c.r, 7);
    OUT_EQ(&c.out, "*2\r\n$1\r\nk\r\n:7\r\n");
    buf_free(&c.out);
    rc_init(&c, 3);
    reply_map(&c.r, 1);
    reply_bulk_cstr(&c.r, "k");
    reply_int(&c.r, 7);
    OUT_EQ(&c.out, "%1\r\n$1\r\nk\r\n:7\r\n");
    buf_free(&c.out);
}

static void test_reply_verbatim(void **state)
{
    (void)state;
    rcase_t c;

    rc_init(&c, 2);
    reply_verbatim(&c.r, "hello\r\nworld", 12, "txt");
    reply_verbatim(&c.r, "", 0, "mkd");
    OUT_EQ(&c.out, "$12\r\nhello\r\nworld\r\n$0\r\n\r\n");
    buf_free(&c.out);

    rc_init(&c, 3);
    reply_verbatim(&c.r, "hello\r\nworld", 12, "txt");
    reply_verbatim(&c.r, "# x", 3, "mkd");
    reply_verbatim(&c.r, "", 0, "txt");
    reply_verbatim(&c.r, "abc", 3, NULL);
    OUT_EQ(&c.out, "=16\r\ntxt:hello\r\nworld\r\n=7\r\nmkd:# x\r\n=4\r\ntxt:\r\n"
                   "=7\r\ntxt:abc\r\n");
    buf_free(&c.out);
}

static void test_reply_defer(void **state)
{
    (void)state;
    rcase_t c;

    /* at the start of an empty buffer */
    rc_init(&c, 2);
    size_t m = reply_defer(&c.r);
    assert_int_equal(m, 0);
    reply_bulk_cstr(&c.r, "a");
    reply_bulk_cstr(&c.r, "b");
    reply_defer_set(&c.r, m, '*', 2);
    OUT_EQ(&c.out, "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    buf_free(&c.out);

    /* after earlier replies, with later replies untouched */
    for (int proto = 2; proto <= 3; proto++) {
        rc_init(&c, proto);
        reply_ok(&c.r);
        m = reply_defer(&c.r);
        assert_int_equal(m, 5);
        reply_bulk_cstr(&c.r, "f");
        reply_int(&c.r, 1);
        reply_defer_set(&c.r, m, '%', 1);
        if (proto == 2)
            OUT_EQ(&c.out, "+OK\r\n*2\r\n$1\r\nf\r\n:1\r\n");
        else
            OUT_EQ(&c.out, "+OK\r\n%1\r\n$1\r\nf\r\n:1\r\n");
        buf_free(&c.out);

        rc_init(&c, proto);
        m = reply_defer(&c.r);
        for (int i = 0; i < 12; i++)
            reply_int(&c.r, i);
        reply_defer_set(&c.r, m, '~', 12);
        const char *body = ":0\r\n:1\r\n:2\r\n:3\r\n:4\r\n:5\r\n:6\r\n:7\r\n:8\r\n:9\r\n"
                           ":10\r\n:11\r\n";
        char exp[128];
        int n = snprintf(exp, sizeof exp, "%s%s", proto == 2 ? "*12\r\n" : "~12\r\n", body);
        assert_bytes(c.out.data, c.out.len, exp, (size_t)n);
        buf_free(&c.out);

        /* an empty aggregate */
        rc_init(&c, proto);
        m = reply_defer(&c.r);
        reply_defer_set(&c.r, m, '*', 0);
        OUT_EQ(&c.out, "*0\r\n");
        buf_free(&c.out);
    }
}

static void test_reply_defer_nested(void **state)
{
    (void)state;
    rcase_t c;

    /* inner set first: inserting at the later mark leaves the earlier one valid */
    rc_init(&c, 3);
    size_t outer = reply_defer(&c.r);
    reply_bulk_cstr(&c.r, "k");
    size_t inner = reply_defer(&c.r);
    reply_int(&c.r, 1);
    reply_int(&c.r, 2);
    reply_defer_set(&c.r, inner, '*', 2);
    reply_defer_set(&c.r, outer, '%', 1);
    OUT_EQ(&c.out, "%1\r\n$1\r\nk\r\n*2\r\n:1\r\n:2\r\n");
    buf_free(&c.out);

    rc_init(&c, 2);
    outer = reply_defer(&c.r);
    reply_bulk_cstr(&c.r, "k");
    inner = reply_defer(&c.r);
    reply_int(&c.r, 1);
    reply_defer_set(&c.r, inner, '~', 1);
    reply_defer_set(&c.r, outer, '%', 1);
    OUT_EQ(&c.out, "*2\r\n$1\r\nk\r\n*1\r\n:1\r\n");
    buf_free(&c.out);
}

/* A reply writer with a limit drops what would pass it and says so. */
static void test_reply_limit(void **state)
{
    (void)state;
    buf_t out;
    buf_init(&out);
    reply_t r = {.out = &out, .proto = 2, .limit = 64};
    reply_array(&r, 3);
    reply_bulk(&r, "hello", 5);
    assert_int_equal(r.overflow, 0);
    reply_bulk(&r, "0123456789012345678901234567890123456789", 40);
    assert_int_equal(r.overflow, 1);
    reply_int(&r, 7); /* dropped too: the reply is being replaced */
    assert_true(out.len <= 64);
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reply_status_ok),
        cmocka_unit_test(test_reply_error),
        cmocka_unit_test(test_reply_errorf),
        cmocka_unit_test(test_reply_int),
        cmocka_unit_test(test_reply_bulk),
        cmocka_unit_test(test_format_double),
        cmocka_unit_test(test_reply_double),
        cmocka_unit_test(test_reply_bulk_double),
        cmocka_unit_test(test_reply_bool_null),
        cmocka_unit_test(test_reply_aggregates),
        cmocka_unit_test(test_reply_verbatim),
        cmocka_unit_test(test_reply_defer),
        cmocka_unit_test(test_reply_defer_nested),
        cmocka_unit_test(test_reply_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
