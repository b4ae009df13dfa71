/* Unit tests for the store: object parsing helpers, db_* through a cmd_ctx_t,
 * expiry (lazy and active), rename across partitions, string growth,
 * flush, counters, eviction and memory accounting. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "db.h"
#include "object.h"
#include "store.h"

#define NPARTS 4
#define NDBS 16
#define S(s) ((sv_t){(s), sizeof(s) - 1})

static int setup(void **state)
{
    (void)state;
    store_setup(NPARTS, NDBS);
    store_set_maxmemory(0, MAXMEM_NOEVICTION, 5);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    store_teardown();
    return 0;
}

static cmd_ctx_t ctx(int db, uint64_t now)
{
    cmd_ctx_t c;
    memset(&c, 0, sizeof c);
    c.db = db;
    c.now_ms = now;
    return c;
}

static uint64_t used_memory(void)
{
    store_stats_t st;
    store_stats(&st);
    return st.used_memory;
}

/* Entries and values only: used_memory less the dicts' tables. */
static uint64_t data_memory(void)
{
    store_stats_t st;
    store_stats(&st);
    return st.used_memory - st.table_memory;
}

static sv_t key_n(char *buf, const char *prefix, int i)
{
    int n = snprintf(buf, 48, "%s%d", prefix, i);
    return (sv_t){buf, (size_t)n};
}

static void assert_str(cmd_ctx_t *c, sv_t key, const char *want, size_t wlen)
{
    obj_t *o = db_lookup(c, key, LOOKUP_WRITE);
    assert_non_null(o);
    assert_int_equal(o->type, OBJ_STRING);
    char tmp[24];
    sv_t v = obj_str(o, tmp);
    assert_int_equal(v.len, wlen);
    assert_memory_equal(v.p, want, wlen);
}

/* ---- object helpers -------------------------------------------------------- */

static void test_str_to_ll(void **state)
{
    (void)state;
    static const struct { const char *s; long long v; } ok[] = {
        {"0", 0}, {"1", 1}, {"-1", -1}, {"1234567890", 1234567890},
        {"9223372036854775807", LLONG_MAX}, {"-9223372036854775808", LLONG_MIN},
    };
    static const char *const bad[] = {
        "", "-", "-0", "+1", "01", "00", " 1", "1 ", "1a", "9223372036854775808",
        "-9223372036854775809", "99999999999999999999", "123456789012345678901",
    };
    long long v;
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        assert_int_equal(str_to_ll(ok[i].s, strlen(ok[i].s), &v), 0);
        assert_true(v == ok[i].v);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (str_to_ll(bad[i], strlen(bad[i]), &v) != -1)
            fail_msg("str_to_ll accepted \"%s\"", bad[i]);
    assert_int_equal(str_to_ll("12\0" "3", 4, &v), -1);
}

static void test_str_to_float(void **state)
{
    (void)state;
    static const struct { const char *s; double v; } ok[] = {
        {"1.5", 1.5}, {"-10", -10}, {"1e3", 1000}, {"3.25", 3.25}, {"inf", INFINITY},
        {"-inf", -INFINITY}, {"+inf", INFINITY}, {"0x10", 16},
    };
    /* nan, spaces, trailing bytes, overflow and underflow are refused */
    static const char *const bad[] = {"", "nan", "NaN", " 1", "\t1", "1 ", "1x", "1e999999",
                                      "1e400", "1e-400", "-"};
    long double ld;
    double d;
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        assert_int_equal(str_to_ld(ok[i].s, strlen(ok[i].s), &ld), 0);
        assert_true(ld == (long double)ok[i].v);
        assert_int_equal(str_to_double(ok[i].s, strlen(ok[i].s), &d), 0);
        assert_true(d == ok[i].v);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (str_to_double(bad[i], strlen(bad[i]), &d) != -1)
            fail_msg("str_to_double accepted \"%s\"", bad[i]);
        /* 1e400 and 1e-400 fit a long double */
        if (strcmp(bad[i], "1e400") && strcmp(bad[i], "1e-400") && str_to_ld(bad[i], strlen(bad[i]), &ld) != -1)
            fail_msg("str_to_ld accepted \"%s\"", bad[i]);
    }
    assert_int_equal(str_to_ld("1\0", 2, &ld), -1);
    /* parses only its view, not the bytes after it */
    assert_int_equal(str_to_ld("12345", 2, &ld), 0);
    assert_true(ld == 12.0L);
    char big[300]; /* longer than any stack copy */
    memset(big, '0', sizeof big);
    big[0] = '1';
    big[1] = '.';
    assert_int_equal(str_to_double(big, sizeof big, &d), 0);
    assert_true(d == 1.0);
}

static void test_ll_to_str_and_obj(void **state)
{
    (void)state;
    char buf[24];
    assert_int_equal(ll_to_str(buf, 0), 1);
    assert_string_equal(buf, "0");
    assert_int_equal(ll_to_str(buf, -42), 3);
    assert_string_equal(buf, "-42");
    ll_to_str(buf, LLONG_MIN);
    assert_string_equal(buf, "-9223372036854775808");
    ll_to_str(buf, LLONG_MAX);
    assert_string_equal(buf, "9223372036854775807");
    assert_string_equal(obj_type_name(OBJ_STRING), "string");
    assert_string_equal(obj_type_name(OBJ_HASH), "hash");
    assert_string_equal(obj_type_name(OBJ_ZSET), "zset");
    obj_t o = {.type = OBJ_STRING, .enc = ENC_INT, .v.i = -7};
    sv_t s = obj_str(&o, buf);
    assert_int_equal(s.len, 2);
    assert_memory_equal(s.p, "-7", 2);
    long long v;
    long double ld;
    assert_int_equal(obj_str_to_ll(&o, &v), 0);
    assert_true(v == -7);
    assert_int_equal(obj_str_to_ld(&o, &ld), 0);
    assert_true(ld == -7.0L);
    obj_t r = {.type = OBJ_STRING, .enc = ENC_RAW};
    r.v.p = (char *)"2.5";
    obj_set_slen(&r, 3);
    assert_int_equal(obj_str_to_ll(&r, &v), -1);
    assert_int_equal(obj_str_to_ld(&r, &ld), 0);
    assert_true(ld == 2.5L);
}

/* ---- strings --------------------------------------------------------------- */

static void test_set_get_encoding(void **state)
{
    (void)state;
    cmd_ctx_t c = ctx(0, now_ms());
    db_set_string(&c, S("s"), "hello", 5, 0);
    obj_t *o = db_lookup(&c, S("s"), 0);
    assert_non_null(o);
    assert_int_equal(o->enc, ENC_RAW);
    assert_str(&c, S("s"), "hello", 5);
    /* canonical integers are stored as ENC_INT, and read back byte-exact */
    const char *ints[] = {"0", "12345", "-1", "9223372036854775807", "-9223372036854775808"};
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
        db_set_string(&c, S("n"), ints[i], strlen(ints[i]), 0);
        o = db_lookup(&c, S("n"), 0);
        assert_int_equal(o->enc, ENC_INT);
        assert_str(&c, S("n"), ints[i], strlen(ints[i]));
    }
    const char *raws[] = {"-0", "007", "+1", " 1", "1.0", "9223372036854775808", ""};
    for (size_t i = 0; i < sizeof raws / sizeof *raws; i++) {
        db_set_string(&c, S("n"), raws[i], strlen(raws[i]), 0);
        o = db_lookup(&c, S("n"), 0);
        assert_int_equal(o->enc, ENC_RAW);
        assert_str(&c, S("n"), raws[i], strlen(raws[i]));
    }
    db_set_int(&c, S("n"), 77, 0);
    o = db_lookup(&c, S("n"), 0);
    assert_int_equal(o->enc, ENC_INT);
    assert_true(o->v.i == 77);
    /* overwrite with a binary value, then a shorter one reusing the buffer */
    db_set_string(&c, S("s"), "a\0b\r\n", 5, 0);
    assert_str(&c, S("s"), "a\0b\r\n", 5);
    db_set_string(&c, S("s"), "xyzw", 4, 0);
    assert_str(&c, S("s"), "xyzw", 4);
    assert_null(db_lookup(&c, S("missing"), 0));
    assert_int_equal(store_db_keys(0), 2);
    /* databases are separate */
    cmd_ctx_t c5 = ctx(5, c.now_ms);
    assert_null(db_lookup(&c5, S("s"), 0));
    db_set_string(&c5, S("s"), "other", 5, 0);
    assert_str(&c5, S("s"), "other", 5);
    assert_str(&c, S("s"), "xyzw", 4);
    assert_int_equal(store_db_keys(5), 1);
    assert_int_equal(db_delete(&c, S("s")), 1);
    assert_int_equal(db_delete(&c, S("s")), 0);
    assert_int_equal(store_db_keys(0), 1);
}

static void test_hits_misses(void **state)
{
    (void)state;
    cmd_ctx_t c = ctx(0, now_ms());
    store_stats_t st;
    store_reset_stats();
    db_set_string(&c, S("k"), "v", 1, 0);
    assert_non_null(db_lookup(&c, S("k"), 0));
    assert_non_null(db_lookup(&c, S("k"), LOOKUP_NOTOUCH));
    assert_null(db_lookup(&c, S("nope"), 0));
    assert_non_null(db_lookup(&c, S("k"), LOOKUP_WRITE));
    assert_null(db_lookup(&c, S("nope"), LOOKUP_WRITE));
    store_stats(&st);
    assert_int_equal(st.keyspace_hits, 2);
    assert_int_equal(st.keyspace_misses, 1);
    store_reset_stats();
    store_stats(&st);
    assert_int_equal(st.keyspace_hits, 0);
    assert_int_equal(st.keyspace_misses, 0);
    assert_null(db_lookup(&c, S("nope"), 0));
    store_stats(&st);
    assert_int_equal(st.keyspace_misses, 1);
}

static void test_lazy_expiry(void **state)
{
    (void)state;
    uint64_t t = now_ms();
    cmd_ctx_t c = ctx(0, t);
    db_set_string(&c, S("k"), "v", 1, 0);
    assert_int_equal(db_get_expire(&c, S("k")), -1);
    assert_int_equal(db_get_expire(&c, S("none")), -2);
    assert_int_equal(db_set_expire(&c, S("k"), (int64_t)t + 100), 1);
    assert_int_equal(db_get_expire(&c, S("k")), (int64_t)t + 100);
    assert_int_equal(store_db_expires(0), 1);
    c.now_ms = t + 100; /* at its time it is still alive, as in Redis */
    assert_non_null(db_lookup(&c, S("k"), 0));
    c.now_ms = t + 101;
    assert_null(db_lookup(&c, S("k"), 0));
    assert_int_equal(db_get_expire(&c, S("k")), -2);
    store_stats_t st;
    store_stats(&st);
    assert_int_equal(st.expired_keys, 1);
    assert_int_equal(store_db_keys(0), 0);
    assert_int_equal(store_db_expires(0), 0);
    /* an expired key is gone for writers too: APPEND starts afresh */
    c.now_ms = t;
    db_set_string(&c, S("a"), "old", 3, 0);
    db_set_expire(&c, S("a"), (int64_t)t + 10);
    c.now_ms = t + 20;
    assert_int_equal(db_string_append(&c, S("a"), "new", 3), 3);
    assert_str(&c, S("a"), "new", 3);
    assert_int_equal(db_get_expire(&c, S("a")), -1);
}

static void test_set_expire_past_and_persist(void **state)
{
    (void)state;
    uint64_t t = now_ms();
    cmd_ctx_t c = ctx(0, t);
    assert_int_equal(db_set_expire(&c, S("k"), (int64_t)t + 1000), 0); /* missing */
    db_set_string(&c, S("k"), "v", 1, 0);
    assert_int_equal(db_set_expire(&c, S("k"), (int64_t)t), 1); /* now: deleted */
    assert_null(db_lookup(&c, S("k"), 0));
    db_set_string(&c, S("k"), "v", 1, 0);
    assert_int_equal(db_set_expire(&c, S("k"), -5), 1);
    assert_null(db_lookup(&c, S("k"), 0));
    store_stats_t st;
    store_stats(&st);
    /* expiries now, as Redis's expiry cycle would make them (SET ... PXAT) */
    assert_int_equal(st.expired_keys, 2);
    db_set_string(&c, S("k"), "v", 1, 0);
    assert_int_equal(db_persist(&c, S("k")), 0);
    db_set_expire(&c, S("k"), (int64_t)t + 5000);
    assert_int_equal(db_persist(&c, S("k")), 1);
    assert_int_equal(db_get_expire(&c, S("k")), -1);
    assert_int_equal(db_persist(&c, S("k")), 0);
    assert_int_equal(db_persist(&c, S("missing")), 0);
    assert_int_equal(store_db_expires(0), 0);
    /* SET drops the TTL unless keep_ttl */
    db_set_expire(&c, S("k"), (int64_t)t + 5000);
    db_set_string(&c, S("k"), "w", 1, 1);
    assert_int_equal(db_get_expire(&c, S("k")), (int64_t)t + 5000);
    db_set_int(&c, S("k"), 5, 1);
    assert_int_equal(db_get_expire(&c, S("k")), (int64_t)t + 5000);
    db_set_string(&c, S("k"), "x", 1, 0);
    assert_int_equal(db_get_expire(&c, S("k")), -1);
    assert_int_equal(store_db_expires(0), 0);
}

/* Two keys of different partitions. */
static void keys_in_two_parts(char *a, sv_t *ka, char *b, sv_t *kb)
{
    *ka = key_n(a, "src", 0);
    for (int i = 1;; i++) {
        *kb = key_n(b, "dst", i);
        if (store_part_of_key(*kb) != store_part_of_key(*ka))
            return;
    }
}

static void test_rename(void **state)
{
    (void)state;
    uint64_t t = now_ms();
    cmd_ctx_t c = ctx(2, t);
    char a[48], b[48];
    sv_t src, dst;
    keys_in_two_parts(a, &src, b, &dst);
    assert_int_equal(db_rename(&c, src, dst, 0), -1);
    db_set_string(&c, src, "a long enough value", 19, 0);
    db_set_expire(&c, src, (int64_t)t + 60000);
    uint64_t mem = data_memory();
    assert_int_equal(db_rename(&c, src, dst, 0), 0);
    assert_null(db_lookup(&c, src, 0));
    assert_str(&c, dst, "a long enough value", 19);
    assert_int_equal(db_get_expire(&c, dst), (int64_t)t + 60000);
    assert_int_equal(data_memory(), mem); /* same key length: same bytes */
    assert_int_equal(db_size(store_part_of_key(src), 2), 0);
    assert_int_equal(db_size(store_part_of_key(dst), 2), 1);
    assert_int_equal(db_expires_count(store_part_of_key(dst), 2), 1);
    assert_int_equal(db_expires_count(store_part_of_key(src), 2), 0);
    /* onto an existing key: replaced; nx refuses */
    db_set_int(&c, src, 9, 0);
    assert_int_equal(db_rename(&c, src, dst, 1), 1);
    assert_non_null(db_lookup(&c, src, 0));
    assert_int_equal(db_rename(&c, src, dst, 0), 0);
    assert_str(&c, dst, "9", 1);
    assert_int_equal(db_get_expire(&c, dst), -1);
    assert_int_equal(store_db_keys(2), 1);
    assert_int_equal(store_db_expires(2), 0);
    /* to itself */
    assert_int_equal(db_rename(&c, dst, dst, 0), 0);
    assert_int_equal(db_rename(&c, dst, dst, 1), 1);
    assert_str(&c, dst, "9", 1);
    /* an expired source does not exist */
    db_set_expire(&c, dst, (int64_t)t + 10);
    c.now_ms = t + 11;
    assert_int_equal(db_rename(&c, dst, src, 0), -1);
    assert_int_equal(store_db_keys(2), 0);
    assert_int_equal(data_memory(), 0);
}

static void test_append_setrange(void **state)
{
    (void)state;
    cmd_ctx_t c = ctx(0, now_ms());
    assert_int_equal(db_string_append(&c, S("a"), "ab", 2), 2);
    assert_str(&c, S("a"), "ab", 2);
    /* many small appends: the buffer grows geometrically */
    char *want = malloc(20002);
    memcpy(want, "ab", 2);
    size_t reallocs = 0, cap = 0;
    for (int i = 0; i < 20000; i++) {
        char ch = (char)('a' + i % 26);
        want[2 + i] = ch;
        assert_int_equal(db_string_append(&c, S("a"), &ch, 1), (size_t)(3 + i));
        obj_t *o = db_lookup(&c, S("a"), LOOKUP_WRITE);
        if (obj_scap(o) != cap) {
            reallocs++;
            cap = obj_scap(o);
        }
        assert_true(obj_scap(o) >= obj_slen(o));
    }
    assert_true(reallocs < 20);
    assert_str(&c, S("a"), want, 20002);
    free(want);
    /* append to an integer */
    db_set_int(&c, S("i"), 12, 0);
    assert_int_equal(db_string_append(&c, S("i"), "34", 2), 4);
    assert_str(&c, S("i"), "1234", 4);
    /* setrange on a missing key pads with zero bytes */
    assert_int_equal(db_string_setrange(&c, S("r"), 5, "abc", 3), 8);
    assert_str(&c, S("r"), "\0\0\0\0\0abc", 8);
    assert_int_equal(db_string_setrange(&c, S("r"), 1, "XY", 2), 8);
    assert_str(&c, S("r"), "\0XY\0\0abc", 8);
    assert_int_equal(db_string_setrange(&c, S("r"), 10, "Z", 1), 11);
    assert_str(&c, S("r"), "\0XY\0\0abc\0\0Z", 11);
    /* nothing to write: no change, no new key */
    assert_int_equal(db_string_setrange(&c, S("r"), 100, "", 0), 11);
    assert_int_equal(db_string_setrange(&c, S("nokey"), 3, "", 0), 0);
    assert_null(db_lookup(&c, S("nokey"), 0));
    db_set_int(&c, S("j"), 100, 0);
    assert_int_equal(db_string_setrange(&c, S("j"), 1, "5", 1), 3);
    assert_str(&c, S("j"), "150", 3);
    assert_int_equal(db_string_setrange(&c, S("e"), 0, "x", 1), 1);
    assert_str(&c, S("e"), "x", 1);
}

static void test_flush_and_counts(void **state)
{
    (void)state;
    uint64_t t = now_ms();
    cmd_ctx_t c0 = ctx(0, t), c3 = ctx(3, t);
    char buf[48];
    for (int i = 0; i < 500; i++) {
        db_set_string(&c0, key_n(buf, "k", i), "value", 5, 0);
        db_set_int(&c3, key_n(buf, "k", i), i, 0);
        if (i % 5 == 0)
            db_set_expire(&c3, key_n(buf, "k", i), (int64_t)t + 100000);
    }
    assert_int_equal(store_db_keys(0), 500);
    assert_int_equal(store_db_keys(3), 500);
    assert_int_equal(store_db_expires(3), 100);
    uint64_t sum = 0;
    for (int p = 0; p < NPARTS; p++) {
        assert_true(db_size(p, 0) > 0);
        sum += db_size(p, 3);
    }
    assert_int_equal(sum, 500);
    for (int p = 0; p < NPARTS; p++)
        db_flush(p, 0);
    assert_int_equal(store_db_keys(0), 0);
    assert_int_equal(store_db_keys(3), 500);
    assert_null(db_lookup(&c0, key_n(buf, "k", 1), 0));
    assert_non_null(db_lookup(&c3, key_n(buf, "k", 1), 0));
    for (int p = 0; p < NPARTS; p++)
        db_flush(p, -1);
    assert_int_equal(store_db_keys(3), 0);
    assert_int_equal(store_db_expires(3), 0);
    assert_int_equal(used_memory(), 0);
    /* usable again after a flush */
    db_set_string(&c0, S("after"), "x", 1, 0);
    assert_str(&c0, S("after"), "x", 1);
}

static void test_active_expiry(void **state)
{
    (void)state;
    uint64_t t = now_ms();
    cmd_ctx_t c0 = ctx(0, t), c1 = ctx(1, t);
    char buf[48];
    for (int i = 0; i < 1000; i++) {
        db_set_string(&c0, key_n(buf, "e", i), "v", 1, 0);
        db_set_expire(&c0, key_n(buf, "e", i), (int64_t)t + 10);
        db_set_string(&c1, key_n(buf, "e", i), "v", 1, 0);
        db_set_expire(&c1, key_n(buf, "e", i), (int64_t)t + 10);
        db_set_string(&c0, key_n(buf, "keep", i), "v", 1, 0);
        if (i < 100) /* a TTL far away */
            db_set_expire(&c0, key_n(buf, "keep", i), (int64_t)t + 1000000);
    }
    assert_int_equal(store_db_expires(0), 1100);
    /* nothing is due yet */
    uint64_t n = 0;
    for (int p = 0; p < NPARTS; p++)
        n += store_active_expire(p, t, 100000);
    assert_int_equal(n, 0);
    for (int p = 0; p < NPARTS; p++)
        n += store_active_expire(p, t + 1000, 1000000);
    /* sampling stops once few of the sampled keys are expired, so one pass
     * may leave a few behind (as in Redis); db 1 had only expired keys */
    assert_true(n >= 1900);
    assert_int_equal(store_db_keys(1), 0);
    for (int round = 0; round < 200 && store_db_keys(0) > 1000; round++)
        for (int p = 0; p < NPARTS; p++)
            n += store_active_expire(p, t + 1000, 1000000);
    assert_int_equal(n, 2000);
    assert_int_equal(store_db_keys(0), 1000);
    assert_int_equal(store_db_expires(0), 100);
    store_stats_t st;
    store_stats(&st);
    assert_int_equal(st.expired_keys, 2000);
}

struct scan_seen {
    unsigned char *seen;
    int total;
};

static void count_key(void *arg, sv_t key, const obj_t *val)
{
    struct scan_seen *a = arg;
    assert_int_equal(val->type, OBJ_STRING);
    assert_true(key.len > 1 && key.p[0] == 'k');
    char tmp[48];
    memcpy(tmp, key.p + 1, key.len - 1);
    tmp[key.len - 1] = '\0';
    a->seen[atoi(tmp)]++;
    a->total++;
}

static void test_scan_and_random(void **state)
{
    (void)state;
    uint64_t t = now_ms();
    cmd_ctx_t c = ctx(0, t);
    char buf[48];
    buf_t out;
    buf_init(&out);
    for (int p = 0; p < NPARTS; p++)
        assert_int_equal(db_random_key(p, 0, t, &out), 0);
    for (int i = 0; i < 300; i++)
        db_set_string(&c, key_n(buf, "k", i), "v", 1, 0);
    db_set_string(&c, S("gone"), "v", 1, 0);
    db_set_expire(&c, S("gone"), (int64_t)t + 5);
    unsigned char seen[300] = {0};
    struct scan_seen a = {seen, 0};
    for (int p = 0; p < NPARTS; p++) {
        uint64_t cur = 0;
        do
            cur = db_scan(p, 0, cur, t + 10, count_key, &a);
        while (cur);
    }
    assert_int_equal(a.total, 300); /* "gone" expired: skipped */
    for (int i = 0; i < 300; i++)
        assert_int_equal(seen[i], 1);
    int p = store_part_of_key(S("k1"));
    assert_int_equal(db_random_key(p, 0, t, &out), 1);
    assert_true(out.len >= 2 && out.data[0] == 'k');
    /* a database of nothing but expired keys has no random key */
    cmd_ctx_t c9 = ctx(9, t);
    db_set_string(&c9, S("k1"), "v", 1, 0);
    db_set_expire(&c9, S("k1"), (int64_t)t + 5);
    assert_int_equal(db_random_key(p, 9, t + 10, &out), 0);
    assert_int_equal(store_db_keys(9), 0);
    buf_free(&out);
}

/* ---- eviction and memory ------------------------------------------------------ */

/* Write keys with store_make_room before each, as the dispatcher does. */
static int write_keys(cmd_ctx_t *c, const char *prefix, int from, int to, size_t vlen)
{
    char buf[48], val[256];
    memset(val, 'x', sizeof val);
    for (int i = from; i < to; i++) {
        sv_t k = key_n(buf, prefix, i);
        if (store_make_room(store_part_of_key(k)) != 0)
            return i;
        db_set_string(c, k, val, vlen, 0);
    }
    return to;
}

static void test_evict_noeviction(void **state)
{
    (void)state;
    cmd_ctx_t c = ctx(0, now_ms());
    write_keys(&c, "k", 0, 100, 100);
    uint64_t mem = used_memory();
    store_set_maxmemory(mem / 2, MAXMEM_NOEVICTION, 5);
    int stopped = write_keys(&c, "n", 0, 100, 100);
    assert_int_equal(stopped, 0);
    assert_int_equal(store_db_keys(0), 100);
    /* volatile policies with no TTLs have nothing to evict */
    store_set_maxmemory(mem / 2, MAXMEM_VOLATILE_LRU, 5);
    assert_int_equal(write_keys(&c, "n", 0, 1, 100), 0);
    store_set_maxmemory(mem / 2, MAXMEM_VOLATILE_RANDOM, 5);
    assert_int_equal(write_keys(&c, "n", 0, 1, 100), 0);
    store_set_maxmemory(0, MAXMEM_NOEVICTION, 5);
    assert_int_equal(write_keys(&c, "n", 0, 10, 100), 10);
}

static void check_within_budget(uint64_t maxmem)
{
    /* each partition is at most one key over its share before the next write */
    store_stats_t st;
    store_stats(&st);
    assert_true(st.used_memory <= maxmem + NPARTS * 512);
    assert_true(st.evicted_keys > 0);
}

static void test_evict_random(void **state)
{
    (void)state;
    uint64_t maxmem = 200 * 1024;
    store_set_maxmemory(maxmem, MAXMEM_ALLKEYS_RANDOM, 5);
    cmd_ctx_t c = ctx(0, now_ms()), c1 = ctx(1, now_ms());
    assert_int_equal(write_keys(&c1, "other", 0, 200, 100), 200);
    assert_int_equal(write_keys(&c, "k", 0, 5000, 100), 5000);
    check_within_budget(maxmem);
    for (int p = 0; p < NPARTS; p++)
        assert_true(store_make_room(p) == 0);
    assert_true(store_db_keys(0) + store_db_keys(1) < 5200);
    assert_true(store_db_keys(0) > 100);
}

/* The store's keyspace events (store.h), as notify.c receives them. */
static int key_events[2];
static void count_key_event(int event, int db, sv_t key)
{
    assert_true(db == 0 && key.len > 0);
    key_events[event]++;
}

static void test_key_event_hook(void **state)
{
    (void)state;
    uint64_t t = now_ms();
    cmd_ctx_t c = ctx(0, t), later = ctx(0, t + 1000);
    memset(key_events, 0, sizeof key_events);
    store_set_key_event_hook(count_key_event);
    /* lazy expiry, on access */
    db_set_string(&c, S("a"), "v", 1, 0);
    db_set_expire(&c, S("a"), (int64_t)t + 10);
    assert_null(db_lookup(&later, S("a"), 0));
    assert_int_equal(key_events[STORE_EVENT_EXPIRED], 1);
    /* active expiry */
    db_set_string(&c, S("b"), "v", 1, 0);
    db_set_expire(&c, S("b"), (int64_t)t + 10);
    for (int p = 0; p < NPARTS; p++)
        store_active_expire(p, t + 1000, 1000000);
    assert_int_equal(key_events[STORE_EVENT_EXPIRED], 2);
    /* a TTL already past */
    db_set_string(&c, S("d"), "v", 1, 0);
    db_set_expire(&c, S("d"), (int64_t)t);
    assert_int_equal(key_events[STORE_EVENT_EXPIRED], 3);
    /* a deletion is neither */
    db_set_string(&c, S("e"), "v", 1, 0);
    assert_int_equal(db_delete(&c, S("e")), 1);
    assert_int_equal(key_events[STORE_EVENT_EXPIRED], 3);
    assert_int_equal(key_events[STORE_EVENT_EVICTED], 0);
    /* eviction: one event per evicted key */
    store_set_maxmemory(200 * 1024, MAXMEM_ALLKEYS_RANDOM, 5);
    write_keys(&c, "k", 0, 5000, 100);
    store_stats_t st;
    store_stats(&st);
    assert_true(st.evicted_keys > 0);
    assert_int_equal((uint64_t)key_events[STORE_EVENT_EVICTED], st.evicted_keys);
    store_set_key_event_hook(NULL);
}

static void test_evict_lru(void **state)
{
    (void)state;
    uint64_t t = now_ms();
    cmd_ctx_t old = ctx(0, t - 100000), recent = ctx(0, t);
    write_keys(&old, "cold", 0, 600, 100);
    write_keys(&old, "hot", 0, 300, 100);
    char buf[48];
    for (int i = 0; i < 300; i++) /* read recently: fresh LRU clocks */
        assert_non_null(db_lookup(&recent, key_n(buf, "hot", i), 0));
    uint64_t mem = used_memory();
    store_set_maxmemory(mem + mem / 10, MAXMEM_ALLKEYS_LRU, 5);
    recent.now_ms = now_ms();
    assert_int_equal(write_keys(&recent, "new", 0, 400, 100), 400);
    check_within_budget(mem + mem / 10);
    int hot = 0, cold = 0;
    for (int i = 0; i < 600; i++)
        cold += db_lookup(&recent, key_n(buf, "cold", i), LOOKUP_NOTOUCH) != NULL;
    for (int i = 0; i < 300; i++)
        hot += db_lookup(&recent, key_n(buf, "hot", i), LOOKUP_NOTOUCH) != NULL;
    print_message("lru: %d/300 hot and %d/600 cold keys survived\n", hot, cold);
    assert_true(hot >= 270);
    assert_true(cold <= 400);
}

static void test_evict_volatile_ttl_and_lfu(void **state)
{
    (void)state;
    uint64_t t = now_ms();
    cmd_ctx_t c = ctx(0, t);
    char buf[48];
    write_keys(&c, "v", 0, 400, 100);
    for (int i = 0; i < 200; i++)
        db_set_expire(&c, key_n(buf, "v", i), (int64_t)t + 1000000 + i);
    uint64_t mem = used_memory();
    store_set_maxmemory(mem, MAXMEM_VOLATILE_TTL, 5);
    assert_int_equal(write_keys(&c, "w", 0, 100, 100), 100);
    int persistent = 0;
    for (int i = 200; i < 400; i++)
        persistent += db_lookup(&c, key_n(buf, "v", i), LOOKUP_NOTOUCH) != NULL;
    assert_int_equal(persistent, 200); /* only keys with a TTL were evicted */
    store_set_maxmemory(mem, MAXMEM_ALLKEYS_LFU, 5);
    assert_int_equal(write_keys(&c, "x", 0, 100, 100), 100);
    check_within_budget(mem);
}

/* The limit is the server's: keys under one hash tag (one partition) fill
 * it as spread keys do, and under LRU their writes evict the older keys of
 * the other partitions first (no scheduler here: the store evicts there at
 * once, as a writer that may touch them does). */
static void test_evict_across_partitions(void **state)
{
    (void)state;
    uint64_t t = now_ms();
    cmd_ctx_t old = ctx(0, t - 100000), now = ctx(0, t);
    store_set_maxmemory(200 * 1024, MAXMEM_NOEVICTION, 5);
    int tagged = write_keys(&now, "{tag}:k", 0, 100000, 100);
    uint64_t full = used_memory();
    assert_true(full >= 190 * 1024 && full <= 200 * 1024 + 512);
    for (int p = 0; p < NPARTS; p++)
        db_flush(p, -1);
    int spread = write_keys(&now, "k", 0, 100000, 100);
    assert_true(tagged >= spread * 95 / 100 && tagged <= spread * 105 / 100);
    for (int p = 0; p < NPARTS; p++)
        db_flush(p, -1);

    store_set_maxmemory(200 * 1024, MAXMEM_ALLKEYS_LRU, 5);
    int n = write_keys(&old, "old", 0, spread * 9 / 10, 100);
    assert_int_equal(n, spread * 9 / 10);
    /* a cron tick: near the limit, each partition publishes its best candidate */
    for (int p = 0; p < NPARTS; p++)
        store_evict_cron(p, t);
    assert_int_equal(write_keys(&now, "{tag}:new", 0, spread, 100), spread);
    char buf[48];
    int olds = 0, news = 0;
    for (int i = 0; i < n; i++)
        olds += db_lookup(&now, key_n(buf, "old", i), LOOKUP_NOTOUCH) != NULL;
    for (int i = 0; i < spread; i++)
        news += db_lookup(&now, key_n(buf, "{tag}:new", i), LOOKUP_NOTOUCH) != NULL;
    print_message("across: %d/%d old and %d/%d new keys left\n", olds, n, news, spread);
    assert_true(news >= spread * 9 / 10);
    assert_true(olds <= n / 10);
    assert_true(used_memory() <= 200 * 1024 + 512);
    store_set_maxmemory(0, MAXMEM_NOEVICTION, 5);
}

static void test_memory_back_to_zero(void **state)
{
    (void)state;
    uint64_t t = now_ms();
    cmd_ctx_t c = ctx(0, t), c7 = ctx(7, t);
    assert_int_equal(used_memory(), 0);
    char buf[48], val[3000];
    memset(val, 'v', sizeof val);
    for (int i = 0; i < 2000; i++) {
        sv_t k = key_n(buf, "m", i);
        db_set_string(&c, k, val, (size_t)(i * 7) % sizeof val, 0);
        if (i % 3 == 0)
            db_set_int(&c, k, i, 1);
        if (i % 4 == 0)
            db_string_append(&c, k, val, 100);
        if (i % 5 == 0)
            db_string_setrange(&c, k, 50, "abc", 3);
        if (i % 6 == 0)
            db_set_expire(&c, k, (int64_t)t + 100000);
        db_set_string(&c7, k, "x", 1, 0);
    }
    assert_true(used_memory() > 2000 * 100);
    for (int i = 0; i < 2000; i += 2) {
        char b2[48];
        sv_t k = key_n(buf, "m", i);
        assert_int_equal(db_rename(&c, k, key_n(b2, "renamed-key-", i), 0), 0);
    }
    for (int i = 0; i < 2000; i++) {
        char b2[48];
        assert_int_equal(db_delete(&c, key_n(buf, "m", i)) + db_delete(&c, key_n(b2, "renamed-key-", i)), 1);
        assert_int_equal(db_delete(&c7, key_n(buf, "m", i)), 1);
    }
    assert_int_equal(store_db_keys(0), 0);
    assert_int_equal(store_db_keys(7), 0);
    assert_int_equal(data_memory(), 0);
    for (int p = 0; p < NPARTS; p++)
        store_rehash_step(p, 1000);
    store_stats_t st;
    store_stats(&st);
    assert_true(st.table_memory > 0 && st.used_memory == st.table_memory);
    for (int p = 0; p < NPARTS; p++)
        db_flush(p, -1);
    assert_int_equal(used_memory(), 0); /* the tables went with the dicts */
    assert_int_equal(mem_used_here(), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_str_to_ll),
        cmocka_unit_test(test_str_to_float),
        cmocka_unit_test(test_ll_to_str_and_obj),
        T(test_set_get_encoding),
        T(test_hits_misses),
        T(test_lazy_expiry),
        T(test_set_expire_past_and_persist),
        T(test_rename),
        T(test_append_setrange),
        T(test_flush_and_counts),
        T(test_active_expiry),
        T(test_scan_and_random),
        T(test_evict_noeviction),
        T(test_evict_random),
        T(test_key_event_hook),
        T(test_evict_lru),
        T(test_evict_volatile_ttl_and_lfu),
        T(test_evict_across_partitions),
        T(test_memory_back_to_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
