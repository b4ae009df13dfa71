/* Unit tests for percore-bench's --protocol memcache: get/set requests are
 * memcached text-protocol commands with the workload's keys and value sizes;
 * the reply parser finds where each reply ends when it comes whole, byte by
 * byte or several at once, flags ERROR / CLIENT_ERROR / SERVER_ERROR, and
 * refuses malformed or oversized replies; the option parser refuses the
 * workloads memcached cannot run (LRANGE, LUA, transactions) with a message.
 *
 * The generator's sources are compiled in directly (#include of the .c files),
 * as in test_workload.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../../bench/percore-bench/mcproto.c"
#include "../../../bench/percore-bench/opts.c"
#include "../../../bench/percore-bench/workload.c"
#include "../../../bench/percore-bench/zipf.c"

static int parse(struct opts *o, const char *line)
{
    char buf[512], *argv[32];
    int argc = 0;
    snprintf(buf, sizeof buf, "percore-bench %s", line);
    for (char *t = strtok(buf, " "); t && argc < 31; t = strtok(NULL, " "))
        argv[argc++] = t;
    argv[argc] = NULL;
    opts_defaults(o);
    return opts_parse(o, argc, argv);
}

/* Parses one memcached command at *pos: "get key:<i>" or "set key:<i> 0 0 n"
 * followed by n bytes; returns 1 for set, 0 for get, and the key's index. */
static int next_mc(const struct wbuf *b, size_t *pos, const char *prefix, long *key, size_t *vlen)
{
    const char *p = b->p + *pos, *end = b->p + b->len;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    assert_non_null(nl);
    assert_true(nl > p && nl[-1] == '\r');
    char line[256];
    size_t n = (size_t)(nl - 1 - p);
    assert_true(n < sizeof line);
    memcpy(line, p, n);
    line[n] = 0;
    char pre[16], k[64];
    unsigned flags, exptime;
    size_t len;
    snprintf(pre, sizeof pre, "%s", prefix);
    if (strncmp(line, "get ", 4) == 0) {
        assert_int_equal(sscanf(line, "get %63s", k), 1);
        *pos += n + 2;
        *vlen = 0;
    } else {
        assert_int_equal(sscanf(line, "set %63s %u %u %zu", k, &flags, &exptime, &len), 4);
        assert_int_equal(flags, 0);
        assert_int_equal(exptime, 0);
        const char *v = nl + 1;
        assert_true(v + len + 2 <= end && v[len] == '\r' && v[len + 1] == '\n');
        *pos = (size_t)(v + len + 2 - b->p);
        *vlen = len;
    }
    assert_memory_equal(k, pre, strlen(pre));
    *key = strtol(k + strlen(pre), NULL, 10);
    return strncmp(line, "set ", 4) == 0;
}

static void test_compose(void **state)
{
    (void)state;
    static struct opts o;
    struct workload w;
    struct wbuf b = {0};
    struct rng r;
    assert_int_equal(parse(&o, "--protocol memcache --keys 1000 --ratio 1:3 --value-size 100 "
                               "--heavy 0.1:BIGVALUE --big-size 5000 --heavy-keys 7"),
                     0);
    assert_int_equal(o.memcache, 1);
    assert_int_equal(wl_init(&w, &o), 0);
    rng_seed(&r, 1);
    int n = 20000, sets = 0, bigs = 0;
    enum req_class cls[20000];
    for (int i = 0; i < n; i++) {
        cls[i] = wl_pick_class(&w, &r);
        assert_int_equal(wl_compose(&w, &r, cls[i], &b), 1);
    }
    size_t pos = 0, vlen;
    long k;
    for (int i = 0; i < n; i++) {
        int set = next_mc(&b, &pos, cls[i] == CLS_HEAVY ? "big:" : "key:", &k, &vlen);
        if (cls[i] == CLS_HEAVY) {
            assert_true(k >= 0 && k < 7);
            bigs++;
            if (set)
                assert_int_equal(vlen, 5000);
        } else {
            assert_true(k >= 0 && k < 1000);
            if (set) {
                assert_int_equal(vlen, 100);
                sets++;
            }
        }
    }
    assert_int_equal(pos, b.len);
    assert_true(abs(bigs - n / 10) < 400);
    assert_true(abs(sets - (n - bigs) / 4) < 400);
    wbuf_free(&b);
    wl_free(&w);
}

/* Feeds s one byte more at a time: no reply before the last byte, then one. */
static void whole_only_at_end(const char *s, int want_err)
{
    size_t len = strlen(s), used = 0;
    int err = -1;
    char text[64];
    const char *msg = NULL;
    for (size_t i = 0; i < len; i++)
        assert_int_equal(mc_parse_reply(s, i, &used, &err, text, sizeof text, &msg), 0);
    assert_int_equal(mc_parse_reply(s, len, &used, &err, text, sizeof text, &msg), 1);
    assert_int_equal(used, len);
    assert_int_equal(err, want_err);
}

static void test_parse_replies(void **state)
{
    (void)state;
    whole_only_at_end("STORED\r\n", 0);
    whole_only_at_end("END\r\n", 0);
    whole_only_at_end("VALUE key:1 0 5\r\nab\r\nc\r\nEND\r\n", 0); /* CRLF inside the value */
    whole_only_at_end("VALUE key:1 0 3 77\r\nabc\r\nVALUE key:2 0 0\r\n\r\nEND\r\n", 0);
    whole_only_at_end("SERVER_ERROR object too large for cache\r\n", 1);
    whole_only_at_end("CLIENT_ERROR bad data chunk\r\n", 1);
    whole_only_at_end("ERROR\r\n", 1);

    /* several replies in one buffer: taken one at a time */
    const char *two = "VALUE k 0 1\r\nx\r\nEND\r\nSERVER_ERROR out of memory\r\nSTORED\r\n";
    size_t used, off = 0;
    int err;
    char text[16];
    const char *msg;
    assert_int_equal(mc_parse_reply(two, strlen(two), &used, &err, text, sizeof text, &msg), 1);
    assert_int_equal(err, 0);
    off += used;
    assert_int_equal(
        mc_parse_reply(two + off, strlen(two) - off, &used, &err, text, sizeof text, &msg), 1);
    assert_int_equal(err, 1);
    assert_string_equal(text, "SERVER_ERROR ou"); /* cut to the buffer */
    off += used;
    assert_int_equal(
        mc_parse_reply(two + off, strlen(two) - off, &used, &err, text, sizeof text, &msg), 1);
    assert_int_equal(err, 0);
    assert_int_equal(off + used, strlen(two));
}

static void refused(const char *s, size_t len)
{
    size_t used;
    int err;
    char text[16];
    const char *msg = NULL;
    assert_int_equal(mc_parse_reply(s, len, &used, &err, text, sizeof text, &msg), -1);
    assert_non_null(msg);
}

static void test_parse_hostile(void **state)
{
    (void)state;
    refused("STORED\n", 7);                               /* no CR */
    refused("VALUE k 0\r\n", 11);                         /* no byte count */
    refused("VALUE k 0 -1\r\n", 14);                      /* negative */
    refused("VALUE k 0 99999999999\r\n", 23);             /* beyond MC_MAX_VALUE */
    refused("VALUE k 0 3x\r\n", 14);                      /* not a number */
    refused("VALUE k 0 1\r\nxyEND\r\n", 20);              /* value not followed by CRLF */
    refused("VALUE k 0 1\r\nx\r\nSTORED\r\n", 24);        /* get reply ended by other than END */
    static char endless[MC_MAX_LINE + 10];
    memset(endless, 'A', sizeof endless);
    refused(endless, sizeof endless); /* a line that never ends is not buffered forever */
    endless[MC_MAX_LINE + 5] = '\r';
    endless[MC_MAX_LINE + 6] = '\n';
    refused(endless, MC_MAX_LINE + 7);
}

static void test_options(void **state)
{
    (void)state;
    static struct opts o;
    assert_int_equal(parse(&o, "--protocol memcache --heavy 0.01:BIGVALUE --dist zipf:0.99 "
                               "--elephants 2:0.5:16 --burst 4:100:10"),
                     0);
    assert_int_equal(parse(&o, "--protocol redis --heavy 0.01:LRANGE"), 0);
    assert_int_equal(o.memcache, 0);
    assert_int_equal(parse(&o, "--protocol memcache --heavy 0.005:LRANGE"), -1);
    assert_int_equal(parse(&o, "--protocol memcache --heavy 0.001:LUA"), -1);
    assert_int_equal(parse(&o, "--protocol memcache --txn 0.1:4:multi"), -1);
    assert_int_equal(parse(&o, "--protocol memcache --txn 0.1:4:lua"), -1);
    assert_int_equal(parse(&o, "--protocol memcached"), -1);
    assert_int_equal(parse(&o, "--check"), 0);
    assert_int_equal(o.check_only, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compose),
        cmocka_unit_test(test_parse_replies),
        cmocka_unit_test(test_parse_hostile),
        cmocka_unit_test(test_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
