/* What the resp unit tests share: the default limits, byte comparison with
 * escaped output on mismatch, and a parse of one input held in a buffer of
 * exactly its size, so ASan catches any read past the end. */
#ifndef PERCORE_TEST_RESP_HARNESS_H
#define PERCORE_TEST_RESP_HARNESS_H

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

static const resp_limits_t LIM = {
    .max_bulk = 512u * 1024 * 1024,
    .max_args = 1024 * 1024,
    .max_inline = 64 * 1024,
};

#define L(s) (s), (sizeof(s) - 1)

static inline void print_escaped(const char *tag, const char *p, size_t n)
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

static inline void assert_bytes(const char *got, size_t gotn, const char *exp, size_t expn)
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

static inline char *dup_exact(const char *s, size_t n)
{
    char *p = malloc(n ? n : 1);
    assert_non_null(p);
    if (n)
        memcpy(p, s, n);
    return p;
}

static inline void pc_run_lim(pcase_t *c, const resp_limits_t *lim, const char *in, size_t n)
{
    memset(c, 0, sizeof *c);
    c->data = dup_exact(in, n);
    c->len = n;
    c->rc = resp_parse_request(c->data, n, lim, &c->args, &c->res);
}

static inline void pc_run(pcase_t *c, const char *in, size_t n)
{
    pc_run_lim(c, &LIM, in, n);
}

static inline void pc_free(pcase_t *c)
{
    free(c->data);
    argvec_free(&c->args);
}

/* Parse in under lim and expect RESP_ERROR with exactly msg, nothing appended. */
static inline void expect_err_lim(const resp_limits_t *lim, const char *in, size_t n,
                                  const char *msg)
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

static inline void expect_err(const char *in, size_t n, const char *msg)
{
    expect_err_lim(&LIM, in, n, msg);
}

static inline void expect_incomplete(const resp_limits_t *lim, const char *in, size_t n,
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

#endif
