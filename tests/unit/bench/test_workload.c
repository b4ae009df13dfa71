/* Unit tests for percore-bench's workload and options: requests are well-formed
 * RESP with the right commands, keys and reply counts; class and SET:GET mixes
 * match what was asked; the option parser takes the documented forms and
 * refuses bad ones.
 *
 * The generator's sources are compiled into this test directly (#include of the
 * .c files): the top-level CMake links tests/unit/<dir>/test_*.c with
 * percore_core only, and these need nothing more. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cheap_mix), cmocka_unit_test(test_classes_and_heavy),
        cmocka_unit_test(test_txn_multi), cmocka_unit_test(test_txn_lua),
        cmocka_unit_test(test_zipf_keys), cmocka_unit_test(test_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
