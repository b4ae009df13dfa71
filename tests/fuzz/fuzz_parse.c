/* fuzz_parse — a connection's use of the request parser, emulated on one
 * input fed whole (stateless resp_parse_request) and in chunks (resumable
 * resp_parse_next, as client.c uses it): the two must agree on every request
 * and error; see fuzz_parse.h for what else is checked. */
#include "fuzz_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const resp_limits_t fuzz_parse_limits = {
    .max_bulk = 512,
    .max_args = 64,
    .max_inline = 256,
};

/* One emulated connection: `in` holds exactly the unconsumed bytes (a fresh
 * block of exactly that size after every arrival, so ASan sees its end), the
 * trace what the parser answered, in a form two runs can compare. */
typedef struct conn {
    char *in;
    size_t len;    /* bytes in `in` */
    size_t parsed; /* of which parsed into requests */
    size_t need;   /* don't parse again before len reaches this (client.c's in_need) */
    int failed;    /* a protocol error ended the connection */
    int resumable; /* chunked passes: keep parser state between arrivals */
    resp_parser_t ps;
    argvec_t args;
    buf_t trace;
    /* whole-input pass only */
    const uint8_t *orig;
    size_t orig_size;
    fuzz_parse_check_fn *check;
} conn_t;

static void trace_request(conn_t *c, const resp_parse_t *res, const sv_t *argv)
{
    buf_printf(&c->trace, "+%d:", res->argc);
    for (int i = 0; i < res->argc; i++) {
        buf_printf(&c->trace, "%zu:", argv[i].len);
        buf_append(&c->trace, argv[i].p, argv[i].len);
    }
    buf_putc(&c->trace, '\n');
}

/* Parse what is buffered, as client_parse does after a read. */
static void conn_parse(conn_t *c)
{
    const resp_limits_t *lim = &fuzz_parse_limits;
    while (!c->failed && c->parsed < c->len) {
        if (c->need && c->len < c->need)
            return;
        char *base = c->in + c->parsed;
        size_t avail = c->len - c->parsed, n0 = c->args.n;
        resp_parse_t res;
        int rc = c->resumable ? resp_parse_next(&c->ps, base, avail, lim, &c->args, &res)
                              : resp_parse_request(base, avail, lim, &c->args, &res);
        if (rc == RESP_INCOMPLETE) {
            if (c->args.n != n0)
                fuzz_fail("RESP_INCOMPLETE left %zu arguments behind", c->args.n - n0);
            if (res.need && res.need <= avail)
                fuzz_fail("RESP_INCOMPLETE needs %zu bytes but had %zu", res.need, avail);
            c->need = res.need ? c->parsed + res.need : 0;
            return;
        }
        c->need = 0;
        if (rc == RESP_ERROR) {
            if (c->args.n != n0)
                fuzz_fail("RESP_ERROR left %zu arguments behind", c->args.n - n0);
            if (!res.err || !res.err[0])
                fuzz_fail("RESP_ERROR without an error text");
            if (c->check)
                c->check(c->orig, c->orig_size, c->parsed, base, rc, &res, NULL);
            buf_printf(&c->trace, "-%s\n", res.err);
            c->failed = 1;
            return;
        }
        if (rc != RESP_OK)
            fuzz_fail("resp_parse_request returned %d", rc);
        if (res.consumed == 0 || res.consumed > avail)
            fuzz_fail("RESP_OK consumed %zu of %zu bytes", res.consumed, avail);
        if (res.argc < 0 || c->args.n - n0 != (size_t)res.argc)
            fuzz_fail("RESP_OK with argc %d appended %zu arguments", res.argc, c->args.n - n0);
        const sv_t *argv = res.argc ? c->args.v + n0 : NULL;
        for (int i = 0; i < res.argc; i++) {
            const char *p = argv[i].p;
            if (p < base || p > base + res.consumed ||
                argv[i].len > (size_t)(base + res.consumed - p))
                fuzz_fail("argument %d (%zu bytes) lies outside its request", i, argv[i].len);
        }
        if (c->check)
            c->check(c->orig, c->orig_size, c->parsed, base, rc, &res, argv);
        trace_request(c, &res, argv);
        c->parsed += res.consumed;
        c->args.n = 0;
    }
}

/* Bytes arrive: drop what was parsed, append them, parse. */
static void conn_feed(conn_t *c, const uint8_t *p, size_t n)
{
    size_t keep = c->len - c->parsed;
    char *in = malloc(keep + n);
    if (!in)
        abort();
    if (keep)
        memcpy(in, c->in + c->parsed, keep);
    memcpy(in + keep, p, n);
    free(c->in);
    c->in = in;
    c->len = keep + n;
    c->need = c->need > c->parsed ? c->need - c->parsed : 0;
    c->parsed = 0;
    conn_parse(c);
}

static void conn_end(conn_t *c)
{
    if (!c->failed)
        buf_printf(&c->trace, ".%zu unparsed\n", c->len - c->parsed);
    free(c->in);
    argvec_free(&c->args);
    resp_parser_free(&c->ps);
}

static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* mode 0: random chunks; mode 1: one byte at a time. */
static void run_chunked(const uint8_t *data, size_t size, int mode, const buf_t *want)
{
    conn_t c = {.resumable = 1};
    resp_parser_init(&c.ps);
    uint64_t seed = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < size; i++)
        seed = (seed ^ data[i]) * 0x100000001b3ULL;
    for (size_t off = 0; off < size && !c.failed;) {
        size_t n = 1;
        if (mode == 0) {
            uint64_t r = next_rand(&seed);
            /* mostly a few bytes (every boundary of a header), sometimes many */
            n = 1 + (size_t)((r >> 8) % ((r & 3) ? 6 : 300));
        }
        if (n > size - off)
            n = size - off;
        conn_feed(&c, data + off, n);
        off += n;
    }
    conn_end(&c);
    if (c.trace.len != want->len || memcmp(c.trace.data, want->data, want->len) != 0) {
        fuzz_print_escaped("whole input", want->data, want->len);
        fuzz_print_escaped(mode ? "byte by byte" : "in chunks", c.trace.data, c.trace.len);
        fuzz_fail("parsing in chunks differs from parsing the whole input");
    }
    buf_free(&c.trace);
}

void fuzz_parse_input(const uint8_t *data, size_t size, fuzz_parse_check_fn *check)
{
    conn_t whole = {.orig = data, .orig_size = size, .check = check};
    resp_parser_init(&whole.ps);
    if (size)
        conn_feed(&whole, data, size);
    conn_end(&whole);
    run_chunked(data, size, 0, &whole.trace);
    if (size <= 2048)
        run_chunked(data, size, 1, &whole.trace);
    buf_free(&whole.trace);
}
