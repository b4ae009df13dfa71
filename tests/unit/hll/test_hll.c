/* Unit tests for t_hll: the hash and register choice, the dense bit packing,
 * sparse and dense conversions, corrupt sparse values and the estimator.
 * The vectors were taken from redis-server 7.0.15 (PFADD of one element to a
 * new key, then PFDEBUG GETREG; GET of the sketch of "a" "b" "c"). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "t_hll.h"

static uint8_t regs[HLL_REGISTERS], back[HLL_REGISTERS];
static unsigned char sparse[HLL_SPARSE_MAX_SIZE], dense[HLL_DENSE_SIZE];

static void add(uint8_t *r, const char *p, size_t n)
{
    int idx, count = hll_pattern(p, n, &idx);
    if (count > r[idx])
        r[idx] = (uint8_t)count;
}

static void test_pattern_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *e;
        size_t n;
        int idx, count;
    } v[] = {
        {"", 0, 5938, 2},
        {"a", 1, 12711, 2},
        {"foo", 3, 7348, 5},
        {"hello world", 11, 9399, 4},
        {"12345678", 8, 10579, 3},          /* one full block, no tail */
        {"123456789abcdefgh", 17, 1958, 3}, /* two blocks and a tail */
        {"\x00\xff\x80", 3, 16255, 2},      /* bytes read unsigned */
        {"percore", 7, 5632, 3},
    };
    for (size_t j = 0; j < sizeof v / sizeof v[0]; j++) {
        int idx = -1;
        assert_int_equal(hll_pattern(v[j].e, v[j].n, &idx), v[j].count);
        assert_int_equal(idx, v[j].idx);
    }
}

/* redis-server's GET after PFADD k a b c: sparse, cache stale. */
static const unsigned char abc[] = {0x48, 0x59, 0x4c, 0x4c, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                    0, 0x80, 0x60, 0xf3, 0x80, 0x50, 0xb1, 0x84, 0x4b, 0xfb,
                                    0x80, 0x42, 0x5a};

static void test_sparse_matches_redis(void **state)
{
    (void)state;
    unsigned char empty[HLL_EMPTY_SIZE];
    hll_write_empty(empty);
    assert_int_equal(hll_check(empty, sizeof empty), 0);
    assert_true(hll_cache_valid(empty));
    assert_int_equal(hll_cache_get(empty), 0);

    assert_int_equal(hll_load(empty, sizeof empty, regs), 0);
    add(regs, "a", 1);
    add(regs, "b", 1);
    add(regs, "c", 1);
    size_t n = hll_write_sparse(regs, empty, sparse);
    assert_int_equal(n, sizeof abc);
    assert_memory_equal(sparse, abc, sizeof abc);
    assert_int_equal(hll_load(abc, sizeof abc, back), 0);
    assert_memory_equal(back, regs, sizeof regs);
    assert_int_equal(hll_estimate(regs), 3);

    char text[256];
    assert_true(hll_decode_text(abc, sizeof abc, text, sizeof text) > 0);
    assert_string_equal(text, "Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603");
    /* the first ZERO run short enough for a one-byte opcode */
    memset(regs, 0, sizeof regs);
    regs[3] = 32;
    n = hll_write_sparse(regs, NULL, sparse);
    assert_int_equal(n, HLL_HDR_SIZE + 4);
    assert_true(hll_decode_text(sparse, n, text, sizeof text) > 0);
    assert_string_equal(text, "z:3 v:32,1 Z:16380");
}

static void test_dense_registers(void **state)
{
    (void)state;
    unsigned char r[HLL_DENSE_SIZE - HLL_HDR_SIZE];
    memset(r, 0, sizeof r);
    /* every bit offset within a byte, and the last register (no byte after it) */
    for (int i = 0; i < 8; i++)
        hll_dense_set(r, i, 63);
    for (int i = 0; i < 8; i++)
        assert_int_equal(hll_dense_get(r, i), 63);
    assert_int_equal(r[0], 0xff);
    assert_int_equal(r[5], 0xff);
    assert_int_equal(r[6], 0x00);
    hll_dense_set(r, 1, 5);
    assert_int_equal(hll_dense_get(r, 0), 63);
    assert_int_equal(hll_dense_get(r, 1), 5);
    assert_int_equal(hll_dense_get(r, 2), 63);
    hll_dense_set(r, HLL_REGISTERS - 1, 42);
    assert_int_equal(hll_dense_get(r, HLL_REGISTERS - 1), 42);
    assert_int_equal(hll_dense_get(r, HLL_REGISTERS - 2), 0);
    assert_int_equal(r[sizeof r - 1], 42 << 2);
}

static void test_conversions(void **state)
{
    (void)state;
    memset(regs, 0, sizeof regs);
    for (int i = 0; i < 5000; i++) {
        char e[16];
        add(regs, e, (size_t)snprintf(e, sizeof e, "el:%d", i));
    }
    hll_write_dense(regs, abc, dense);
    assert_int_equal(hll_check(dense, sizeof dense), 0);
    assert_int_equal(hll_encoding(dense), HLL_DENSE);
    assert_false(hll_cache_valid(dense));
    assert_int_equal(hll_load(dense, sizeof dense, back), 0);
    assert_memory_equal(back, regs, sizeof regs);
    size_t n = hll_write_sparse(back, NULL, sparse);
    assert_true(n > 3000 && n < HLL_SPARSE_MAX_SIZE);
    assert_int_equal(hll_load(sparse, n, back), 0);
    assert_memory_equal(back, regs, sizeof regs);
    /* the representations give the same count */
    uint64_t e = hll_estimate(regs);
    assert_true(e > 4800 && e < 5200);
    /* a register over 32 cannot be sparse */
    back[100] = 33;
    assert_int_equal(hll_write_sparse(back, NULL, sparse), 0);
    /* merging takes each register's maximum */
    memset(back, 0, sizeof back);
    back[0] = 60;
    assert_int_equal(hll_merge(dense, sizeof dense, back), 0);
    assert_int_equal(back[0], regs[0] > 60 ? regs[0] : 60);
    assert_memory_equal(back + 1, regs + 1, sizeof regs - 1);
}

static void test_cache(void **state)
{
    (void)state;
    unsigned char v[HLL_EMPTY_SIZE];
    hll_write_empty(v);
    hll_cache_set(v, 0x0102030405060708ULL);
    assert_true(hll_cache_valid(v));
    assert_int_equal(v[8], 0x08);
    assert_int_equal(v[15], 0x01);
    assert_int_equal(hll_cache_get(v), 0x0102030405060708ULL);
    hll_cache_invalidate(v);
    assert_false(hll_cache_valid(v));
    assert_int_equal(v[15], 0x81);
}

static void test_check(void **state)
{
    (void)state;
    unsigned char v[HLL_EMPTY_SIZE];
    hll_write_empty(v);
    assert_int_equal(hll_check(v, HLL_HDR_SIZE - 1), -1);
    v[4] = 2; /* unknown encoding */
    assert_int_equal(hll_check(v, sizeof v), -1);
    v[4] = HLL_DENSE; /* dense of the wrong length */
    assert_int_equal(hll_check(v, sizeof v), -1);
    hll_write_empty(v);
    v[0] = 'h';
    assert_int_equal(hll_check(v, sizeof v), -1);
}

static void test_corrupt_sparse(void **state)
{
    (void)state;
    static unsigned char v[HLL_HDR_SIZE + 4 * HLL_REGISTERS + 1];
    hll_write_empty(v);
    size_t n = HLL_HDR_SIZE;
    /* too few registers */
    v[n++] = 0x7f;
    v[n++] = 0xfe; /* XZERO 16383 */
    assert_int_equal(hll_load(v, n, regs), -1);
    /* XZERO cut short */
    v[n++] = 0x40;
    assert_int_equal(hll_load(v, n, regs), -1);
    /* XZERO runs far past the registers (they would overflow 32 bits summed) */
    n = HLL_HDR_SIZE;
    for (int j = 0; j < 2 * HLL_REGISTERS; j++) {
        v[n++] = 0x7f;
        v[n++] = 0xff;
    }
    v[n++] = 0xff; /* VAL 32 x4 */
    assert_int_equal(hll_load(v, n, regs), -1);
    /* exactly covering, then a stray VAL */
    n = HLL_HDR_SIZE;
    v[n++] = 0x7f;
    v[n++] = 0xfb; /* XZERO 16380 */
    v[n++] = 0xff; /* VAL 32 x4 */
    assert_int_equal(hll_load(v, n, regs), 0);
    assert_int_equal(regs[HLL_REGISTERS - 1], 32);
    v[n++] = 0x80;
    assert_int_equal(hll_load(v, n, regs), -1);
    char text[64];
    assert_int_equal(hll_decode_text(v, n, text, sizeof text), -1);
}

static void test_estimates(void **state)
{
    (void)state;
    memset(regs, 0, sizeof regs);
    assert_int_equal(hll_estimate(regs), 0);
    /* "1" .. "n": the counts redis-server 7.0.15 gives for the same elements */
    static const struct {
        int n;
        uint64_t count;
    } want[] = {{10, 10}, {1000, 1001}, {100000, 99562}};
    size_t w = 0;
    for (int i = 1; i <= 100000; i++) {
        char e[16];
        add(regs, e, (size_t)snprintf(e, sizeof e, "%d", i));
        if (i == want[w].n)
            assert_int_equal(hll_estimate(regs), want[w++].count);
    }
    assert_int_equal(w, 3);
    /* every register at the maximum: a finite, huge estimate */
    memset(regs, HLL_Q + 1, sizeof regs);
    assert_true(hll_estimate(regs) > 1000000000000ULL);
}

static void test_selftest(void **state)
{
    (void)state;
    char err[128] = "";
    assert_int_equal(hll_selftest(err, sizeof err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pattern_vectors), cmocka_unit_test(test_sparse_matches_redis),
        cmocka_unit_test(test_dense_registers), cmocka_unit_test(test_conversions),
        cmocka_unit_test(test_cache),           cmocka_unit_test(test_check),
        cmocka_unit_test(test_corrupt_sparse),  cmocka_unit_test(test_estimates),
        cmocka_unit_test(test_selftest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
