/* Unit tests for percore-bench's workload and options: requests are well-formed
 * RESP with the right commands, keys and reply counts; class and SET:GET mixes
 * match what was asked; the option parser takes the documented forms and
 * refuses bad ones. --protocol memcache (mcproto.c): get/set requests are
 * memcached text-protocol commands with the workload's keys and value sizes;
 * the reply parser finds where each reply ends when it comes whole, byte by
 * byte or several at once, flags ERROR / CLIENT_ERROR / SERVER_ERROR, and
 * refuses malformed or oversized replies; the option parser refuses the
 * workloads memcached cannot run (LRANGE, LUA, transactions).
 *
 * The generator's sources are compiled into this test directly (#include of the
 * .c files): the top-level CMake links tests/unit/<dir>/test_*.c with
 * percore_core only, and these need nothing more. */
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

/* One parsed command: its arguments, pointing into the buffer. */
struct cmd {
    int argc;
    const char *argv[80];
    size_t len[80];
};

/* Parses the multibulk command at *pos; fails the test on malformed input. */
static void next_cmd(const struct wbuf *b, size_t *pos, struct cmd *c)
{
    const char *p = b->p + *pos, *end = b->p + b->len;
    char *e;
    assert_true(p < end && *p == '*');
    c->argc = (int)strtol(p + 1, &e, 10);
    assert_true(c->argc >= 1 && c->argc <= 80 && e[0] == '\r' && e[1] == '\n');
    p = e + 2;
    for (int i = 0; i < c->argc; i++) {
        assert_true(p < end && *p == '$');
        long n = strtol(p + 1, &e, 10);
        assert_true(n >= 0 && e[0] == '\r' && e[1] == '\n');
        p = e + 2;
        assert_true(p + n + 2 <= end && p[n] == '\r' && p[n + 1] == '\n');
        c->argv[i] = p;
        c->len[i] = (size_t)n;
        p += n + 2;
    }
    *pos = (size_t)(p - b->p);
}

static int arg_is(const struct cmd *c, int i, const char *s)
{
    return c->len[i] == strlen(s) && memcmp(c->argv[i], s, c->len[i]) == 0;
}

static long key_index(const struct cmd *c, int i, const char *prefix)
{
    size_t pl = strlen(prefix);
    assert_true(c->len[i] > pl && memcmp(c->argv[i], prefix, pl) == 0);
    char tmp[32];
    assert_true(c->len[i] - pl < sizeof tmp);
    memcpy(tmp, c->argv[i] + pl, c->len[i] - pl);
    tmp[c->len[i] - pl] = 0;
    return strtol(tmp, NULL, 10);
}

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

static void test_cheap_mix(void **state)
{
    (void)state;
    static struct opts o;
    struct workload w;
    struct wbuf b = {0};
    struct rng r;
    assert_int_equal(parse(&o, "--keys 1000 --ratio 1:3 --value-size 100"), 0);
    assert_int_equal(wl_init(&w, &o), 0);
    rng_seed(&r, 1);
    int sets = 0, n = 40000;
    for (int i = 0; i < n; i++) {
        assert_int_equal(wl_pick_class(&w, &r), CLS_CHEAP);
        assert_int_equal(wl_compose(&w, &r, CLS_CHEAP, &b), 1);
    }
    size_t pos = 0;
    struct cmd c;
    for (int i = 0; i < n; i++) {
        next_cmd(&b, &pos, &c);
        long k = key_index(&c, 1, "key:");
        assert_true(k >= 0 && k < 1000);
        if (arg_is(&c, 0, "SET")) {
            assert_int_equal(c.argc, 3);
            assert_int_equal(c.len[2], 100);
            sets++;
        } else {
            assert_true(arg_is(&c, 0, "GET"));
            assert_int_equal(c.argc, 2);
        }
    }
    assert_int_equal(pos, b.len);
    /* 1:3 -> a quarter SETs; sd of the count is 87 */
    assert_true(abs(sets - n / 4) < 500);
    wbuf_free(&b);
    wl_free(&w);
}

static void test_classes_and_heavy(void **state)
{
    (void)state;
    static struct opts o;
    struct workload w;
    struct wbuf b = {0};
    struct rng r;
    assert_int_equal(parse(&o, "--keys 100 --heavy 0.1:LRANGE --heavy 0.05:LUA --txn 0.2:3:lua "
                               "--list-len 500 --heavy-keys 7"),
                     0);
    assert_int_equal(wl_init(&w, &o), 0);
    rng_seed(&r, 2);
    int n = 100000, count[NCLASS] = {0}, lrange = 0, lua = 0;
    for (int i = 0; i < n; i++)
        count[wl_pick_class(&w, &r)]++;
    assert_true(abs(count[CLS_TXN] - n / 5) < 700);
    assert_true(abs(count[CLS_HEAVY] - 3 * n / 20) < 700);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(wl_compose(&w, &r, CLS_HEAVY, &b), 1);
    size_t pos = 0;
    struct cmd c;
    for (int i = 0; i < 10000; i++) {
        next_cmd(&b, &pos, &c);
        if (arg_is(&c, 0, "LRANGE")) {
            long k = key_index(&c, 1, "list:");
            assert_true(k >= 0 && k < 7);
            assert_true(arg_is(&c, 2, "0") && arg_is(&c, 3, "499"));
            lrange++;
        } else {
            assert_true(arg_is(&c, 0, "EVAL") && arg_is(&c, 2, "1"));
            key_index(&c, 3, "key:");
            lua++;
        }
    }
    assert_true(abs(lrange - 6667) < 250); /* LRANGE is 2/3 of the heavy share */
    assert_int_equal(lrange + lua, 10000);
    wbuf_free(&b);
    wl_free(&w);
}

static void check_txn(const char *mode, int k)
{
    static struct opts o;
    struct workload w;
    struct wbuf b = {0};
    struct rng r;
    char line[128];
    snprintf(line, sizeof line, "--keys 50 --txn 0.5:%d:%s:1.2", k, mode);
    assert_int_equal(parse(&o, line), 0);
    assert_int_equal(wl_init(&w, &o), 0);
    rng_seed(&r, 3);
    for (int i = 0; i < 1000; i++) {
        b.len = 0;
        unsigned replies = wl_compose(&w, &r, CLS_TXN, &b);
        size_t pos = 0;
        struct cmd c;
        long keys[64];
        next_cmd(&b, &pos, &c);
        if (mode[0] == 'l') {
            assert_int_equal(replies, 1);
            assert_true(arg_is(&c, 0, "EVAL"));
            assert_int_equal(c.argc, k + 4);
            for (int j = 0; j < k; j++)
                keys[j] = key_index(&c, 3 + j, "acct:");
        } else {
            assert_int_equal(replies, (unsigned)k + 2);
            assert_true(arg_is(&c, 0, "MULTI"));
            long sum = 0;
            for (int j = 0; j < k; j++) {
                next_cmd(&b, &pos, &c);
                assert_true(arg_is(&c, 0, "INCRBY"));
                keys[j] = key_index(&c, 1, "acct:");
                char tmp[16];
                memcpy(tmp, c.argv[2], c.len[2]);
                tmp[c.len[2]] = 0;
                sum += atol(tmp);
            }
            assert_int_equal(sum, 0); /* a transfer: the total is unchanged */
            next_cmd(&b, &pos, &c);
            assert_true(arg_is(&c, 0, "EXEC"));
        }
        assert_int_equal(pos, b.len);
        for (int x = 0; x < k; x++) {
            assert_true(keys[x] >= 0 && keys[x] < 50);
            for (int y = 0; y < x; y++)
                assert_true(keys[x] != keys[y]); /* distinct keys */
        }
    }
    wbuf_free(&b);
    wl_free(&w);
}

static void test_txn_multi(void **state)
{
    (void)state;
    check_txn("multi", 4);
    check_txn("multi", 2);
}

static void test_txn_lua(void **state)
{
    (void)state;
    check_txn("lua", 8);
}

static void test_zipf_keys(void **state)
{
    (void)state;
    static struct opts o;
    struct workload w;
    struct rng r;
    assert_int_equal(parse(&o, "--keys 1000 --dist zipf:0.99"), 0);
    assert_int_equal(wl_init(&w, &o), 0);
    rng_seed(&r, 4);
    int zero = 0, n = 100000;
    for (int i = 0; i < n; i++) {
        uint64_t k = wl_key(&w, &r);
        assert_true(k < 1000);
        zero += k == 0;
    }
    /* rank 1 (key:0) has 1 / H(1000, 0.99) = 13.2% of the draws */
    assert_true(zero > 12500 && zero < 13900);
    wl_free(&w);
}

static void test_options(void **state)
{
    (void)state;
    static struct opts o;
    assert_int_equal(parse(&o, "--rate 50k --elephants 2:0.5:16 --burst 3:1000:100 --cpus 1,3-4"),
                     0);
    assert_true(o.rate == 50000);
    assert_int_equal(o.elephants, 2);
    assert_true(o.elephant_share == 0.5);
    assert_int_equal(o.elephant_depth, 16);
    assert_true(o.burst_factor == 3 && o.burst_period_ms == 1000 && o.burst_len_ms == 100);
    assert_int_equal(o.ncpus, 3);
    assert_int_equal(o.cpus[2], 4);
    assert_int_equal(parse(&o, "--closed --pipeline 8 --dist zipf:1.2 --keys 1M"), 0);
    assert_true(o.closed && o.pipeline == 8 && o.theta == 1.2 && o.keys == 1000000);
    assert_int_equal(parse(&o, "--preload-only --heavy 0.01:LRANGE"), 0);
    assert_true(o.preload && o.preload_only && !o.no_heavy_preload);
    assert_int_equal(parse(&o, "--no-heavy-preload --heavy 0.01:LRANGE"), 0);
    assert_true(!o.preload && !o.preload_only && o.no_heavy_preload);
    /* refused, each with a message on stderr */
    assert_int_equal(parse(&o, "--dist zipf:"), -1);
    assert_int_equal(parse(&o, "--dist gauss"), -1);
    assert_int_equal(parse(&o, "--heavy 0.1:SORT"), -1);
    assert_int_equal(parse(&o, "--heavy 0.6:LRANGE --txn 0.5:2:multi"), -1);
    assert_int_equal(parse(&o, "--txn 0.1:1:multi"), -1);
    assert_int_equal(parse(&o, "--txn 0.1:3:watch"), -1);
    assert_int_equal(parse(&o, "--burst 2:10:20"), -1);
    assert_int_equal(parse(&o, "--closed --burst 2:100:20"), -1);
    assert_int_equal(parse(&o, "--elephants 50:0.5"), -1);
    assert_int_equal(parse(&o, "--cpus 3-1"), -1);
    assert_int_equal(parse(&o, "--rate -1"), -1);
    assert_int_equal(parse(&o, "--bogus"), -1);
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

static void test_mc_compose(void **state)
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

static void test_mc_parse_replies(void **state)
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

static void test_mc_parse_hostile(void **state)
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

static void test_mc_options(void **state)
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
        cmocka_unit_test(test_cheap_mix), cmocka_unit_test(test_classes_and_heavy),
        cmocka_unit_test(test_txn_multi), cmocka_unit_test(test_txn_lua),
        cmocka_unit_test(test_zipf_keys), cmocka_unit_test(test_options),
        cmocka_unit_test(test_mc_compose), cmocka_unit_test(test_mc_parse_replies),
        cmocka_unit_test(test_mc_parse_hostile), cmocka_unit_test(test_mc_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
