/* Unit tests for resp's request parser on multibulk input: well-formed and
 * malformed requests, limits, partial input at every boundary with the need
 * it reports, and the resumable parser (resp_parse_next) fed in pieces. Every
 * input is copied into a buffer of exactly its size, so ASan catches any read
 * past the end. */
#include "resp_harness.h"

/* ---- multibulk ---------------------------------------------------------- */

static void test_mbulk_single(void **state)
{
    (void)state;
    pcase_t c;
    static const char in[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n";

    pc_run(&c, L(in));
    assert_int_equal(c.rc, RESP_OK);
    assert_int_equal(c.res.argc, 3);
    assert_int_equal(c.res.consumed, sizeof in - 1);
    assert_int_equal(c.args.n, 3);
    ARG_EQ(&c.args, 0, "SET");
    ARG_EQ(&c.args, 1, "k");
    ARG_EQ(&c.args, 2, "hello");
    /* views point into the input, not into copies */
    assert_ptr_equal(c.args.v[0].p, c.data + 8);
    pc_free(&c);
}

static void test_mbulk_empty_bulk(void **state)
{
    (void)state;
    pcase_t c;

    pc_run(&c, L("*2\r\n$0\r\n\r\n$3\r\nabc\r\n"));
    assert_int_equal(c.rc, RESP_OK);
    assert_int_equal(c.res.argc, 2);
    assert_int_equal(c.res.consumed, 19);
    ARG_EQ(&c.args, 0, "");
    ARG_EQ(&c.args, 1, "abc");
    pc_free(&c);
}

static void test_mbulk_pipelined(void **state)
{
    (void)state;
    static const char in[] = "*1\r\n$4\r\nPING\r\n"
                             "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n"
                             "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$2\r\nbc\r\n"
                             "*2\r\n$4\r\nECHO\r\n$2\r\nhi"; /* truncated */
    char *data = dup_exact(L(in));
    size_t len = sizeof in - 1, off = 0;
    argvec_t args = {0};
    resp_parse_t res;

    assert_int_equal(resp_parse_request(data + off, len - off, &LIM, &args, &res), RESP_OK);
    assert_int_equal(res.argc, 1);
    assert_int_equal(res.consumed, 14);
    ARG_EQ(&args, 0, "PING");
    off += res.consumed;

    /* arguments accumulate in the same vector */
    assert_int_equal(resp_parse_request(data + off, len - off, &LIM, &args, &res), RESP_OK);
    assert_int_equal(res.argc, 2);
    assert_int_equal(res.consumed, 22);
    assert_int_equal(args.n, 3);
    ARG_EQ(&args, 1, "GET");
    ARG_EQ(&args, 2, "key");
    off += res.consumed;

    assert_int_equal(resp_parse_request(data + off, len - off, &LIM, &args, &res), RESP_OK);
    assert_int_equal(res.argc, 3);
    assert_int_equal(res.consumed, 28);
    ARG_EQ(&args, 3, "SET");
    ARG_EQ(&args, 4, "a");
    ARG_EQ(&args, 5, "bc");
    off += res.consumed;

    /* the truncated fourth: INCOMPLETE, vector rolled back, need = end of "hi\r\n" */
    assert_int_equal(resp_parse_request(data + off, len - off, &LIM, &args, &res),
                     RESP_INCOMPLETE);
    assert_int_equal(args.n, 6);
    assert_int_equal(res.need, 4 + 10 + 4 + 2 + 2);
    assert_int_equal(res.consumed, 0);

    free(data);
    argvec_free(&args);
}

static void test_mbulk_zero_and_negative_count(void **state)
{
    (void)state;
    pcase_t c;

    pc_run(&c, L("*0\r\n*1\r\n$1\r\nx\r\n"));
    assert_int_equal(c.rc, RESP_OK);
    assert_int_equal(c.res.argc, 0);
    assert_int_equal(c.res.consumed, 4);
    assert_int_equal(c.args.n, 0);
    pc_free(&c);

    pc_run(&c, L("*-1\r\n"));
    assert_int_equal(c.rc, RESP_OK);
    assert_int_equal(c.res.argc, 0);
    assert_int_equal(c.res.consumed, 5);
    pc_free(&c);

    pc_run(&c, L("*-20\r\nrest"));
    assert_int_equal(c.rc, RESP_OK);
    assert_int_equal(c.res.argc, 0);
    assert_int_equal(c.res.consumed, 6);
    pc_free(&c);
}

static void test_mbulk_binary_payload(void **state)
{
    (void)state;
    pcase_t c;
    static const char in[] = "*2\r\n$3\r\nSET\r\n$9\r\na\0b\r\n$1\r\r\r\n";

    pc_run(&c, L(in));
    assert_int_equal(c.rc, RESP_OK);
    assert_int_equal(c.res.argc, 2);
    assert_int_equal(c.res.consumed, sizeof in - 1);
    ARG_EQ(&c.args, 0, "SET");
    ARG_EQ(&c.args, 1, "a\0b\r\n$1\r\r");
    pc_free(&c);

    /* every byte value survives */
    char in2[10 + 256 + 2];
    memcpy(in2, "*1\r\n$256\r\n", 10);
    for (int i = 0; i < 256; i++)
        in2[10 + i] = (char)i;
    memcpy(in2 + 266, "\r\n", 2);
    pc_run(&c, in2, 268);
    assert_int_equal(c.rc, RESP_OK);
    assert_int_equal(c.res.consumed, 268);
    assert_bytes(c.args.v[0].p, c.args.v[0].len, in2 + 10, 256);
    pc_free(&c);
}

static void test_mbulk_count_errors(void **state)
{
    (void)state;
    const char *m = "Protocol error: invalid multibulk length";

    expect_err(L("*abc\r\n"), m);
    expect_err(L("*\r\n"), m);
    expect_err(L("*01\r\n"), m);
    expect_err(L("*+1\r\n"), m);
    expect_err(L("*-0\r\n"), m);
    expect_err(L("*-\r\n"), m);
    expect_err(L("*1 \r\n"), m);
    expect_err(L("* 1\r\n"), m);
    expect_err(L("*1.0\r\n"), m);
    expect_err(L("*99999999999999999999\r\n"), m);
    expect_err(L("*1048577\r\n"), m); /* max_args + 1 */
    /* CR not followed by LF */
    expect_err(L("*1\rx"), m);
    expect_err(L("*1\r\r\n"), m);
}

static void test_mbulk_bulk_errors(void **state)
{
    (void)state;
    const char *m = "Protocol error: invalid bulk length";

    expect_err(L("*1\r\n$abc\r\n"), m);
    expect_err(L("*1\r\n$\r\n"), m);
    expect_err(L("*1\r\n$-1\r\n"), m);
    expect_err(L("*1\r\n$-5\r\n"), m);
    expect_err(L("*1\r\n$+3\r\nabc\r\n"), m);
    expect_err(L("*1\r\n$03\r\nabc\r\n"), m);
    expect_err(L("*1\r\n$3x\r\nabc\r\n"), m);
    expect_err(L("*1\r\n$99999999999999999999\r\n"), m);
    expect_err(L("*1\r\n$536870913\r\n"), m); /* max_bulk + 1 */
    expect_err(L("*1\r\n$3\rabc\r\n"), m);    /* CR not followed by LF */
    /* the second bulk's error also discards the first */
    expect_err(L("*2\r\n$1\r\na\r\n$x\r\n"), m);
}

static void test_mbulk_expected_dollar(void **state)
{
    (void)state;

    expect_err(L("*1\r\n:3\r\n"), "Protocol error: expected '$', got ':'");
    expect_err(L("*2\r\n$1\r\na\r\nxyz\r\n"), "Protocol error: expected '$', got 'x'");
    expect_err(L("*1\r\n\r\n"), "Protocol error: expected '$', got '\r'");
    /* like Redis, the check waits for the header line to be complete */
    expect_incomplete(&LIM, L("*1\r\n:3"), 0);
    expect_incomplete(&LIM, L("*1\r\n:3\r"), 0);
}

static void test_mbulk_missing_crlf_after_bulk(void **state)
{
    (void)state;
    static const char *ins[] = {"*1\r\n$3\r\nabcX\r\n", "*1\r\n$3\r\nabc\rX", "*1\r\n$3\r\nabc\n\r",
                                "*2\r\n$1\r\na\r\n$3\r\nabcde"};

    for (size_t i = 0; i < sizeof ins / sizeof *ins; i++) {
        pcase_t c;
        pc_run(&c, ins[i], strlen(ins[i]));
        assert_int_equal(c.rc, RESP_ERROR);
        assert_non_null(c.res.err);
        assert_memory_equal(c.res.err, "Protocol error: ", 16);
        assert_int_equal(c.args.n, 0);
        pc_free(&c);
    }
}

static void test_mbulk_too_big_headers(void **state)
{
    (void)state;
    resp_limits_t lim = LIM;
    char in[64];

    lim.max_inline = 16;

    /* "*" and 15 digits = 16 bytes, no CR: still waiting */
    memset(in, '1', sizeof in);
    in[0] = '*';
    expect_incomplete(&lim, in, 16, 0);
    /* one more byte and no CR anywhere in the first max_inline+1: too big */
    expect_err_lim(&lim, in, 17, "Protocol error: too big mbulk count string");
    expect_err_lim(&lim, in, 40, "Protocol error: too big mbulk count string");

    /* the same for a bulk header, measured from its '$' */
    memcpy(in, "*1\r\n$", 5);
    expect_incomplete(&lim, in, 4 + 16, 0);
    expect_err_lim(&lim, in, 4 + 17, "Protocol error: too big bulk count string");
    expect_err_lim(&lim, in, 60, "Protocol error: too big bulk count string");

    /* a CR at index max_inline is still found: the number itself is then bad */
    memset(in, '1', sizeof in);
    in[0] = '*';
    in[16] = '\r';
    in[17] = '\n';
    expect_err_lim(&lim, in, 18, "Protocol error: invalid multibulk length");

    /* and a short header is fine with a small limit */
    pcase_t c;
    pc_run_lim(&c, &lim, L("*1\r\n$2\r\nhi\r\n"));
    assert_int_equal(c.rc, RESP_OK);
    ARG_EQ(&c.args, 0, "hi");
    pc_free(&c);
}

static void test_mbulk_limits(void **state)
{
    (void)state;
    resp_limits_t lim = LIM;
    pcase_t c;

    lim.max_bulk = 5;
    lim.max_args = 3;

    pc_run_lim(&c, &lim, L("*3\r\n$5\r\nhello\r\n$0\r\n\r\n$1\r\nx\r\n"));
    assert_int_equal(c.rc, RESP_OK);
    assert_int_equal(c.res.argc, 3);
    ARG_EQ(&c.args, 0, "hello");
    pc_free(&c);

    expect_err_lim(&lim, L("*4\r\n"), "Protocol error: invalid multibulk length");
    expect_err_lim(&lim, L("*1\r\n$6\r\n"), "Protocol error: invalid bulk length");
    /* the limit is checked on the header, before any payload arrives */
    expect_err_lim(&lim, L("*1\r\n$6\r\nhel"), "Protocol error: invalid bulk length");

    /* limits at the defaults */
    expect_incomplete(&LIM, L("*1048576\r\n"), 0);
    expect_incomplete(&LIM, L("*1\r\n$536870912\r\n"), 4 + 12 + 536870912 + 2);
}

/* Every proper prefix of in is INCOMPLETE, leaves the vector as it was and
 * reports a need that is 0 or beyond the prefix; the whole is OK. */
static void check_every_prefix(const char *in, size_t n, int argc)
{
    argvec_t args = {0};
    resp_parse_t res;

    argvec_push(&args, SV_LIT("sentinel"));
    for (size_t k = 0; k < n; k++) {
        char *d = dup_exact(in, k);
        int rc = resp_parse_request(d, k, &LIM, &args, &res);
        if (rc != RESP_INCOMPLETE) {
            fprintf(stderr, "prefix %zu\n", k);
            print_escaped("input", in, k);
        }
        assert_int_equal(rc, RESP_INCOMPLETE);
        assert_int_equal(args.n, 1);
        assert_true(res.need == 0 || (res.need > k && res.need <= n));
        free(d);
    }
    char *d = dup_exact(in, n);
    assert_int_equal(resp_parse_request(d, n, &LIM, &args, &res), RESP_OK);
    assert_int_equal(res.consumed, n);
    assert_int_equal(res.argc, argc);
    assert_int_equal(args.n, 1 + (size_t)argc);
    ARG_EQ(&args, 0, "sentinel");
    free(d);
    argvec_free(&args);
}

static void test_partial_every_boundary(void **state)
{
    (void)state;

    check_every_prefix(L("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$10\r\n0123456789\r\n"), 3);
    check_every_prefix(L("*2\r\n$4\r\n\r\n\r\n\r\n$3\r\n\0\0\0\r\n"), 2);
    check_every_prefix(L("*1\r\n$0\r\n\r\n"), 1);
    check_every_prefix(L("*0\r\n"), 0);
    check_every_prefix(L("*-1\r\n"), 0);
    check_every_prefix(L("SET \"a b\" '\\'c' \"\\x41\\n\"\r\n"), 4);
    check_every_prefix(L("PING\n"), 1);
    check_every_prefix(L("\r\n"), 0);
}

static void test_partial_need_values(void **state)
{
    (void)state;
    static const char in[] = "*2\r\n$3\r\nGET\r\n$5\r\nhello\r\n";
    /* byte offsets:          0   4   8    13  17    24 */

    for (size_t k = 0; k < 8; k++)
        expect_incomplete(&LIM, in, k, 0); /* no bulk header yet */
    for (size_t k = 8; k < 13; k++)
        expect_incomplete(&LIM, in, k, 13); /* "GET\r\n" ends at 13 */
    for (size_t k = 13; k < 17; k++)
        expect_incomplete(&LIM, in, k, 0); /* second header incomplete */
    for (size_t k = 17; k < 24; k++)
        expect_incomplete(&LIM, in, k, 24);
}

static void test_need_large_bulk(void **state)
{
    (void)state;
    const size_t vlen = 1000000;
    static const char head[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1000000\r\n";
    size_t hlen = sizeof head - 1, total = hlen + vlen + 2;
    char *in = malloc(total);
    argvec_t args = {0};
    resp_parse_t res;

    assert_non_null(in);
    memcpy(in, head, hlen);
    for (size_t i = 0; i < vlen; i++)
        in[hlen + i] = (char)('a' + i % 26);
    memcpy(in + hlen + vlen, "\r\n", 2);

    /* header only, part of the value, all but the LF: the same need */
    const size_t cuts[] = {hlen, hlen + 1, hlen + 65536, hlen + vlen, hlen + vlen + 1};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        assert_int_equal(resp_parse_request(in, cuts[i], &LIM, &args, &res), RESP_INCOMPLETE);
        assert_int_equal(res.need, total);
        assert_int_equal(args.n, 0);
    }
    /* before the value's header is complete, the need is unknown */
    assert_int_equal(resp_parse_request(in, hlen - 1, &LIM, &args, &res), RESP_INCOMPLETE);
    assert_int_equal(res.need, 0);

    assert_int_equal(resp_parse_request(in, total, &LIM, &args, &res), RESP_OK);
    assert_int_equal(res.consumed, total);
    assert_int_equal(res.argc, 3);
    assert_ptr_equal(args.v[2].p, in + hlen);
    assert_int_equal(args.v[2].len, vlen);
    free(in);
    argvec_free(&args);
}

static void test_parse_empty_input(void **state)
{
    (void)state;
    expect_incomplete(&LIM, "", 0, 0);
    expect_incomplete(&LIM, "*", 1, 0);
}

/* ---- the resumable parser (resp_parse_next) ------------------------------ */

/* Feed in[0..n) to a connection-like loop, `step` bytes per "read", into a
 * buffer that is reallocated (moved) before every read; returns the number
 * of requests parsed and joins their arguments, '|'-separated, into out. */
static int feed_chunked(const char *in, size_t n, size_t step, const resp_limits_t *lim,
                        buf_t *out, const char **err)
{
    resp_parser_t ps;
    resp_parser_init(&ps);
    char *data = NULL;
    size_t len = 0, start = 0;
    int nreq = 0;
    *err = NULL;
    for (size_t fed = 0; fed < n;) {
        size_t k = n - fed < step ? n - fed : step;
        char *moved = malloc(len + k); /* a new address every read */
        if (len)
            memcpy(moved, data, len);
        free(data);
        data = moved;
        memcpy(data + len, in + fed, k);
        len += k;
        fed += k;
        for (;;) {
            argvec_t args = {0};
            resp_parse_t res;
            int rc = resp_parse_next(&ps, data + start, len - start, lim, &args, &res);
            if (rc == RESP_OK) {
                for (int i = 0; i < res.argc; i++) {
                    assert_true(args.v[i].p >= data + start && args.v[i].p + args.v[i].len <= data + len);
                    buf_append(out, args.v[i].p, args.v[i].len);
                    buf_putc(out, '|');
                }
                start += res.consumed;
                nreq++;
            } else if (rc == RESP_ERROR) {
                *err = res.err;
            }
            argvec_free(&args);
            if (rc != RESP_OK)
                break;
        }
        if (*err)
            break;
    }
    free(data);
    resp_parser_free(&ps);
    return nreq;
}

static void test_parse_next_any_split(void **state)
{
    (void)state;
    static const char in[] = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$10\r\n0123456789\r\n"
                             "PING\r\n*0\r\n*1\r\n$0\r\n\r\n"
                             "set \"a b\" 'c'\n*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n";
    buf_t whole;
    buf_init(&whole);
    const char *err;
    int n = feed_chunked(in, sizeof in - 1, sizeof in, &LIM, &whole, &err);
    assert_null(err);
    assert_int_equal(n, 6);
    assert_memory_equal(whole.data, "SET|key|0123456789|PING||set|a b|c|GET|key|", whole.len);
    for (size_t step = 1; step < 20; step++) {
        buf_t got;
        buf_init(&got);
        assert_int_equal(feed_chunked(in, sizeof in - 1, step, &LIM, &got, &err), 6);
        assert_null(err);
        assert_int_equal(got.len, whole.len);
        assert_memory_equal(got.data, whole.data, whole.len);
        buf_free(&got);
    }
    buf_free(&whole);
}

static void test_parse_next_errors_when_split(void **state)
{
    (void)state;
    buf_t got;
    const char *err;
    buf_init(&got);
    feed_chunked(L("*2\r\n$3\r\nGET\r\n$x\r\n"), 1, &LIM, &got, &err);
    assert_string_equal(err, "Protocol error: invalid bulk length");
    feed_chunked(L("*1\r\n$3\r\nGETXX"), 2, &LIM, &got, &err);
    assert_string_equal(err, "Protocol error: expected '\\r\\n' after bulk data");
    resp_limits_t lim = LIM;
    lim.max_inline = 16;
    feed_chunked(L("*1\r\n$300000000000000000000000"), 3, &lim, &got, &err);
    assert_string_equal(err, "Protocol error: too big bulk count string");
    buf_free(&got);
}

static void test_parse_unauthenticated_limits(void **state)
{
    (void)state;
    resp_limits_t lim = LIM;
    lim.unauth = 1;
    lim.unauth_max_args = 10;
    lim.unauth_max_bulk = 16384;
    buf_t got;
    const char *err;
    buf_init(&got);
    feed_chunked(L("*11\r\n"), 64, &lim, &got, &err);
    assert_string_equal(err, "Protocol error: unauthenticated multibulk length");
    feed_chunked(L("*2\r\n$4\r\nAUTH\r\n$16385\r\n"), 64, &lim, &got, &err);
    assert_string_equal(err, "Protocol error: unauthenticated bulk length");
    got.len = 0;
    assert_int_equal(feed_chunked(L("*2\r\n$4\r\nAUTH\r\n$6\r\nsecret\r\n"), 5, &lim, &got, &err), 1);
    assert_null(err);
    assert_memory_equal(got.data, "AUTH|secret|", got.len);
    buf_free(&got);
}

/* A request of 100000 arguments in 7-byte pieces parses to the same
 * arguments: the resumed state keeps each argument exactly once. */
static void test_parse_next_many_args_trickled(void **state)
{
    (void)state;
    buf_t in;
    buf_init(&in);
    buf_printf(&in, "*100000\r\n");
    for (int i = 0; i < 100000; i++)
        buf_printf(&in, "$1\r\n%c\r\n", 'a' + i % 26);
    buf_t got;
    const char *err;
    buf_init(&got);
    assert_int_equal(feed_chunked(in.data, in.len, 4096, &LIM, &got, &err), 1);
    assert_null(err);
    assert_int_equal(got.len, 200000);
    assert_int_equal(got.data[2 * 99999], 'a' + 99999 % 26);
    buf_free(&got);
    buf_free(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mbulk_single),
        cmocka_unit_test(test_mbulk_empty_bulk),
        cmocka_unit_test(test_mbulk_pipelined),
        cmocka_unit_test(test_mbulk_zero_and_negative_count),
        cmocka_unit_test(test_mbulk_binary_payload),
        cmocka_unit_test(test_mbulk_count_errors),
        cmocka_unit_test(test_mbulk_bulk_errors),
        cmocka_unit_test(test_mbulk_expected_dollar),
        cmocka_unit_test(test_mbulk_missing_crlf_after_bulk),
        cmocka_unit_test(test_mbulk_too_big_headers),
        cmocka_unit_test(test_mbulk_limits),
        cmocka_unit_test(test_partial_every_boundary),
        cmocka_unit_test(test_partial_need_values),
        cmocka_unit_test(test_need_large_bulk),
        cmocka_unit_test(test_parse_empty_input),
        cmocka_unit_test(test_parse_next_any_split),
        cmocka_unit_test(test_parse_next_errors_when_split),
        cmocka_unit_test(test_parse_unauthenticated_limits),
        cmocka_unit_test(test_parse_next_many_args_trickled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
