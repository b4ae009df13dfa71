/* Unit tests for resp: the request parser and the reply composer, driven with
 * byte strings. Every input is copied into a buffer of exactly its size, so
 * ASan catches any read past the end. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "resp.h"

/* ---- helpers ------------------------------------------------------------ */

static const resp_limits_t LIM = {
    .max_bulk = 512u * 1024 * 1024,
    .max_args = 1024 * 1024,
    .max_inline = 64 * 1024,
};

#define L(s) (s), (sizeof(s) - 1)

static void print_escaped(const char *tag, const char *p, size_t n)
{
    fprintf(stderr, "%s (%zu bytes): \"", tag, n);
    for (size_t i = 0; i < n && i < 400; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\r')
            fputs("\\r", stderr);
        else if (c == '\n')
            fputs("\\n", stderr);
        else if (c == '\\' || c == '"')
            fprintf(stderr, "\\%c", c);
        else if (c < 32 || c >= 127)
            fprintf(stderr, "\\x%02x", c);
        else
            fputc(c, stderr);
    }
    fputs(n > 400 ? "\"...\n" : "\"\n", stderr);
}

static void assert_bytes(const char *got, size_t gotn, const char *exp, size_t expn)
{
    if (gotn != expn || (expn && memcmp(got, exp, expn) != 0)) {
        print_escaped("expected", exp, expn);
        print_escaped("got     ", got, gotn);
        fail_msg("byte mismatch");
    }
}

#define ARG_EQ(a, i, lit) assert_bytes((a)->v[i].p, (a)->v[i].len, L(lit))
#define OUT_EQ(b, lit) assert_bytes((b)->data, (b)->len, L(lit))

/* A parse of one input, held in a buffer of exactly its size. */
typedef struct pcase {
    char *data;
    size_t len;
    argvec_t args;
    resp_parse_t res;
    int rc;
} pcase_t;

static char *dup_exact(const char *s, size_t n)
{
    char *p = malloc(n ? n : 1);
    assert_non_null(p);
    if (n)
        memcpy(p, s, n);
    return p;
}

static void pc_run_lim(pcase_t *c, const resp_limits_t *lim, const char *in, size_t n)
{
    memset(c, 0, sizeof *c);
    c->data = dup_exact(in, n);
    c->len = n;
    c->rc = resp_parse_request(c->data, n, lim, &c->args, &c->res);
}

static void pc_run(pcase_t *c, const char *in, size_t n)
{
    pc_run_lim(c, &LIM, in, n);
}

static void pc_free(pcase_t *c)
{
    free(c->data);
    argvec_free(&c->args);
}

/* Parse in under lim and expect RESP_ERROR with exactly msg, nothing appended. */
static void expect_err_lim(const resp_limits_t *lim, const char *in, size_t n, const char *msg)
{
    pcase_t c;
    pc_run_lim(&c, lim, in, n);
    if (c.rc != RESP_ERROR)
        print_escaped("input", in, n);
    assert_int_equal(c.rc, RESP_ERROR);
    assert_non_null(c.res.err);
    assert_string_equal(c.res.err, msg);
    assert_int_equal(c.args.n, 0);
    pc_free(&c);
}

static void expect_err(const char *in, size_t n, const char *msg)
{
    expect_err_lim(&LIM, in, n, msg);
}

static void expect_incomplete(const resp_limits_t *lim, const char *in, size_t n,
                              size_t need)
{
    pcase_t c;
    pc_run_lim(&c, lim, in, n);
    if (c.rc != RESP_INCOMPLETE)
        print_escaped("input", in, n);
    assert_int_equal(c.rc, RESP_INCOMPLETE);
    assert_int_equal(c.res.need, need);
    assert_int_equal(c.args.n, 0);
    pc_free(&c);
}

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

/* ---- inline ------------------------------------------------------------- */

static void test_inline_basic(void **state)
{
    (void)state;
    pcase_t c;

    pc_run(&c, L("PING\r\n"));
    assert_int_equal(c.rc, RESP_OK);
    assert_int_equal(c.res.argc, 1);
    assert_int_equal(c.res.consumed, 6);
    ARG_EQ(&c.args, 0, "PING");
    pc_free(&c);

    pc_run(&c, L("PING\n"));
    assert_int_equal(c.rc, RESP_OK);
    assert_int_equal(c.res.consumed, 5);
    ARG_EQ(&c.args, 0, "PING");
    pc_free(&c);

    pc_run(&c, L("  set\tk \t v  \r\nGET k\r\n"));
    assert_int_equal(c.rc, RESP_OK);
    assert_int_equal(c.res.argc, 3);
    assert_int_equal(c.res.consumed, 15);
    ARG_EQ(&c.args, 0, "set");
    ARG_EQ(&c.args, 1, "k");
    ARG_EQ(&c.args, 2, "v");
    pc_free(&c);

    /* no newline yet */
    expect_incomplete(&LIM, L("PING"), 0);
    expect_incomplete(&LIM, L("PING\r"), 0);
}

static void test_inline_pipelined(void **state)
{
    (void)state;
    static const char in[] = "PING\nECHO \"a\\nb\"\r\n\r\nGET x\r\n*1\r\n$1\r\nz\r\n";
    char *data = dup_exact(L(in));
    size_t len = sizeof in - 1, off = 0;
    argvec_t args = {0};
    resp_parse_t res;

    assert_int_equal(resp_parse_request(data, len, &LIM, &args, &res), RESP_OK);
    assert_int_equal(res.consumed, 5);
    off += res.consumed;
    assert_int_equal(resp_parse_request(data + off, len - off, &LIM, &args, &res), RESP_OK);
    assert_int_equal(res.consumed, 13);
    assert_int_equal(res.argc, 2);
    ARG_EQ(&args, 2, "a\nb");
    off += res.consumed;
    assert_int_equal(resp_parse_request(data + off, len - off, &LIM, &args, &res), RESP_OK);
    assert_int_equal(res.consumed, 2);
    assert_int_equal(res.argc, 0);
    off += res.consumed;
    assert_int_equal(resp_parse_request(data + off, len - off, &LIM, &args, &res), RESP_OK);
    assert_int_equal(res.consumed, 7);
    ARG_EQ(&args, 3, "GET");
    ARG_EQ(&args, 4, "x");
    off += res.consumed;
    assert_int_equal(resp_parse_request(data + off, len - off, &LIM, &args, &res), RESP_OK);
    assert_int_equal(res.argc, 1);
    ARG_EQ(&args, 5, "z");
    assert_int_equal(off + res.consumed, len);
    free(data);
    argvec_free(&args);
}

static void test_inline_blank_lines(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t consumed;
    } cases[] = {{"\r\n", 2}, {"\n", 1}, {"   \t \r\n", 7}, {" \n", 2}, {"\r\r\n", 3},
                 {"\v\f \n", 4}};

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        pcase_t c;
        pc_run(&c, cases[i].in, strlen(cases[i].in));
        assert_int_equal(c.rc, RESP_OK);
        assert_int_equal(c.res.argc, 0);
        assert_int_equal(c.res.consumed, cases[i].consumed);
        assert_int_equal(c.args.n, 0);
        pc_free(&c);
    }
}

static void test_inline_cr_handling(void **state)
{
    (void)state;
    pcase_t c;

    /* a lone CR inside the line separates arguments */
    pc_run(&c, L("a\rb\n"));
    assert_int_equal(c.rc, RESP_OK);
    assert_int_equal(c.res.argc, 2);
    ARG_EQ(&c.args, 0, "a");
    ARG_EQ(&c.args, 1, "b");
    pc_free(&c);

    /* only one CR before the LF is stripped; the other ends the argument */
    pc_run(&c, L("GET k\r\r\n"));
    assert_int_equal(c.rc, RESP_OK);
    assert_int_equal(c.res.argc, 2);
    assert_int_equal(c.res.consumed, 8);
    ARG_EQ(&c.args, 1, "k");
    pc_free(&c);

    /* a CR inside quotes is kept */
    pc_run(&c, L("ECHO \"a\rb\"\r\n"));
    assert_int_equal(c.rc, RESP_OK);
    ARG_EQ(&c.args, 1, "a\rb");
    pc_free(&c);

    /* \v and \f separate arguments at their start but do not end one */
    pc_run(&c, L("\va\vb\fc d\n"));
    assert_int_equal(c.rc, RESP_OK);
    assert_int_equal(c.res.argc, 2);
    ARG_EQ(&c.args, 0, "a\vb\fc");
    ARG_EQ(&c.args, 1, "d");
    pc_free(&c);
}

static void test_inline_double_quotes(void **state)
{
    (void)state;
    pcase_t c;

    pc_run(&c, L("set \"a b\" \"\"\r\n"));
    assert_int_equal(c.rc, RESP_OK);
    assert_int_equal(c.res.argc, 3);
    ARG_EQ(&c.args, 0, "set");
    ARG_EQ(&c.args, 1, "a b");
    ARG_EQ(&c.args, 2, "");
    pc_free(&c);

    pc_run(&c, L("\"\\n\\r\\t\\b\\a\\\\\\\"\\q\\'\"\n"));
    assert_int_equal(c.rc, RESP_OK);
    assert_int_equal(c.res.argc, 1);
    ARG_EQ(&c.args, 0, "\n\r\t\b\a\\\"q'");
    pc_free(&c);

    /* \xHH in either case; an incomplete or non-hex \x is just "x" */
    pc_run(&c, L("\"\\x41\\x4a\\x4A\\x00\\xff\\xzz\\x4\" \"\\x\"\n"));
    assert_int_equal(c.rc, RESP_OK);
    assert_int_equal(c.res.argc, 2);
    ARG_EQ(&c.args, 0, "AJJ\0\xff" "xzzx4");
    ARG_EQ(&c.args, 1, "x");
    pc_free(&c);

    /* a quote may open inside an argument: foo"bar" is foobar */
    pc_run(&c, L("foo\"b a r\" x\"\"\n"));
    assert_int_equal(c.rc, RESP_OK);
    assert_int_equal(c.res.argc, 2);
    ARG_EQ(&c.args, 0, "foob a r");
    ARG_EQ(&c.args, 1, "x");
    pc_free(&c);
}

static void test_inline_quote_midword(void **state)
{
    (void)state;
    pcase_t c;

    /* x""y: the quote after x opens, "" closes and must be followed by a space */
    expect_err(L("x\"\"y\n"), "Protocol error: unbalanced quotes in request");

    pc_run(&c, L("x\"\" y\n"));
    assert_int_equal(c.rc, RESP_OK);
    assert_int_equal(c.res.argc, 2);
    ARG_EQ(&c.args, 0, "x");
    ARG_EQ(&c.args, 1, "y");
    pc_free(&c);

    pc_run(&c, L("a'b c'\t\"d\"\n"));
    assert_int_equal(c.rc, RESP_OK);
    assert_int_equal(c.res.argc, 2);
    ARG_EQ(&c.args, 0, "ab c");
    ARG_EQ(&c.args, 1, "d");
    pc_free(&c);
}

static void test_inline_single_quotes(void **state)
{
    (void)state;
    pcase_t c;

    /* only \' is an escape; everything else is literal */
    pc_run(&c, L("'it\\'s' 'a\\nb' '\\x41' '\"' ''\r\n"));
    assert_int_equal(c.rc, RESP_OK);
    assert_int_equal(c.res.argc, 5);
    ARG_EQ(&c.args, 0, "it's");
    ARG_EQ(&c.args, 1, "a\\nb");
    ARG_EQ(&c.args, 2, "\\x41");
    ARG_EQ(&c.args, 3, "\"");
    ARG_EQ(&c.args, 4, "");
    pc_free(&c);

    /* a double quote string may hold single quotes */
    pc_run(&c, L("\"'a'\"\n"));
    assert_int_equal(c.rc, RESP_OK);
    ARG_EQ(&c.args, 0, "'a'");
    pc_free(&c);
}

static void test_inline_unquote_in_place(void **state)
{
    (void)state;
    pcase_t c;

    pc_run(&c, L("\"\\x41B\" 'c\\'d'\n"));
    assert_int_equal(c.rc, RESP_OK);
    /* each view starts where its source argument started, inside data */
    assert_ptr_equal(c.args.v[0].p, c.data);
    assert_ptr_equal(c.args.v[1].p, c.data + 8);
    assert_memory_equal(c.data, "AB", 2);
    assert_memory_equal(c.data + 8, "c'd", 3);
    pc_free(&c);
}

static void test_inline_unbalanced(void **state)
{
    (void)state;
    const char *m = "Protocol error: unbalanced quotes in request";

    expect_err(L("SET k \"abc\r\n"), m);
    expect_err(L("SET k 'abc\r\n"), m);
    expect_err(L("SET k \"abc\"d\r\n"), m);
    expect_err(L("SET k 'abc'd\r\n"), m);
    expect_err(L("SET k \"abc\\\"\r\n"), m);
    expect_err(L("SET k 'abc\\'\n"), m);
    expect_err(L("\"\n"), m);
    expect_err(L("\"\\\n"), m);
    expect_err(L("\"a\"\"b\"\n"), m);
    /* the line ends at the first LF, so the quote is unterminated */
    expect_err(L("\"a\nb\"\n"), m);
}

static void test_inline_binary(void **state)
{
    (void)state;
    pcase_t c;

    /* a NUL is ordinary data, unlike in C-string based splitting */
    pc_run(&c, L("a\0b \"c\0d\"\n"));
    assert_int_equal(c.rc, RESP_OK);
    assert_int_equal(c.res.argc, 2);
    ARG_EQ(&c.args, 0, "a\0b");
    ARG_EQ(&c.args, 1, "c\0d");
    pc_free(&c);

    pc_run(&c, L("\xff\xfe \x80\n"));
    assert_int_equal(c.rc, RESP_OK);
    ARG_EQ(&c.args, 0, "\xff\xfe");
    ARG_EQ(&c.args, 1, "\x80");
    pc_free(&c);
}

static void test_inline_max_inline(void **state)
{
    (void)state;
    resp_limits_t lim = LIM;
    char in[64];
    pcase_t c;

    lim.max_inline = 16;
    memset(in, 'a', sizeof in);

    /* 16 bytes and no newline: keep waiting; 17: too big */
    expect_incomplete(&lim, in, 16, 0);
    expect_err_lim(&lim, in, 17, "Protocol error: too big inline request");
    expect_err_lim(&lim, in, 64, "Protocol error: too big inline request");

    /* a line of max_inline bytes plus its newline is accepted */
    in[16] = '\n';
    pc_run_lim(&c, &lim, in, 17);
    assert_int_equal(c.rc, RESP_OK);
    assert_int_equal(c.res.consumed, 17);
    assert_int_equal(c.args.v[0].len, 16);
    pc_free(&c);
    pc_run_lim(&c, &lim, in, 40);
    assert_int_equal(c.rc, RESP_OK);
    assert_int_equal(c.res.consumed, 17);
    pc_free(&c);

    /* the default limit */
    char *big = malloc(64 * 1024 + 1);
    assert_non_null(big);
    memset(big, 'x', 64 * 1024 + 1);
    expect_incomplete(&LIM, big, 64 * 1024, 0);
    expect_err(big, 64 * 1024 + 1, "Protocol error: too big inline request");
    free(big);
}

static void test_parse_empty_input(void **state)
{
    (void)state;
    expect_incomplete(&LIM, "", 0, 0);
    expect_incomplete(&LIM, "*", 1, 0);
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
        cmocka_unit_test(test_inline_basic),
        cmocka_unit_test(test_inline_pipelined),
        cmocka_unit_test(test_inline_blank_lines),
        cmocka_unit_test(test_inline_cr_handling),
        cmocka_unit_test(test_inline_double_quotes),
        cmocka_unit_test(test_inline_quote_midword),
        cmocka_unit_test(test_inline_single_quotes),
        cmocka_unit_test(test_inline_unquote_in_place),
        cmocka_unit_test(test_inline_unbalanced),
        cmocka_unit_test(test_inline_binary),
        cmocka_unit_test(test_inline_max_inline),
        cmocka_unit_test(test_parse_empty_input),
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
        cmocka_unit_test(test_parse_next_any_split),
        cmocka_unit_test(test_parse_next_errors_when_split),
        cmocka_unit_test(test_parse_unauthenticated_limits),
        cmocka_unit_test(test_parse_next_many_args_trickled),
        cmocka_unit_test(test_reply_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
