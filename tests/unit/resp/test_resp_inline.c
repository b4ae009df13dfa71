/* Unit tests for resp's request parser on inline commands: splitting, quoting
 * and unquoting, blank lines and CRs, binary bytes and the inline size limit.
 * Every input is copied into a buffer of exactly its size, so ASan catches any
 * read past the end. */
#include "resp_harness.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
