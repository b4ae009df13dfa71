/* Unit tests for percore-bench's log-linear histogram: bucket layout, and
 * percentiles of known distributions within 1% of the exact sample quantiles.
 *
 * The generator's sources are compiled into this test directly (#include of the
 * .c file): the top-level CMake links every tests/unit/<dir>/test_*.c with the
 * server's percore_core only, and hist.c needs nothing else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "../../../bench/percore-bench/hist.c"
#include "../../../bench/percore-bench/rng.h"

#define SAMPLES 1000000

static struct hist h; /* 35 KB: not on the stack */
static uint64_t vals[SAMPLES];

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The exact quantile of the sorted sample, by the histogram's rank rule. */
static uint64_t exact_quantile(const uint64_t *sorted, size_t n, double q)
{
    size_t rank = (size_t)ceil(q * (double)n);
    if (rank < 1)
        rank = 1;
    return sorted[rank - 1];
}

static void assert_close(double got, double want, double rel, const char *what, double q)
{
    double err = fabs(got - want) / want;
    if (err > rel)
        fail_msg("%s q=%.4f: histogram says %.1f, exact %.1f (%.3f%% off)", what, q, got, want,
                 err * 100);
}

static void check_quantiles(const char *what)
{
    static const double qs[] = {0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999};
    qsort(vals, SAMPLES, sizeof vals[0], cmp_u64);
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++)
        assert_close((double)hist_quantile(&h, qs[i]), (double)exact_quantile(vals, SAMPLES, qs[i]),
                     0.01, what, qs[i]);
    assert_int_equal(hist_quantile(&h, 1.0), vals[SAMPLES - 1]);
    assert_int_equal(h.min, vals[0]);
    assert_int_equal(h.count, SAMPLES);
}

static void test_bucket_layout(void **state)
{
    (void)state;
    /* every value falls in its bucket, and no bucket is wider than 1/128 of its
     * lower bound (past the exact region) */
    struct rng r;
    rng_seed(&r, 7);
    for (int i = 0; i < 200000; i++) {
        uint64_t v = rng_next(&r) >> (rng_next(&r) % 64);
        if (v >= (1ULL << HIST_MAX_BITS))
            continue;
        unsigned idx = hist_index(v);
        assert_true(idx < HIST_BUCKETS);
        uint64_t lo = hist_bucket_low(idx), w = hist_bucket_width(idx);
        assert_true(lo <= v && v < lo + w);
        if (lo >= HIST_SUB)
            assert_true(w * 128 <= lo);
    }
    /* indices are contiguous and increasing */
    for (unsigned i = 0; i + 1 < HIST_BUCKETS; i++)
        assert_int_equal(hist_bucket_low(i) + hist_bucket_width(i), hist_bucket_low(i + 1));
    assert_int_equal(hist_index((uint64_t)1 << 50), HIST_BUCKETS - 1);
}

/* One value at a time, 1 us to 60 s: the reported median is within 0.5%. */
static void test_single_values(void **state)
{
    (void)state;
    for (double v = 1000; v <= 60e9; v *= 1.0137) {
        hist_init(&h);
        hist_record(&h, (uint64_t)v);
        hist_record(&h, (uint64_t)v);
        hist_record(&h, (uint64_t)v);
        assert_close((double)hist_quantile(&h, 0.5), (double)(uint64_t)v, 0.005, "single", 0.5);
    }
    hist_init(&h);
    assert_int_equal(hist_quantile(&h, 0.5), 0);
}

static void test_uniform(void **state)
{
    (void)state;
    struct rng r;
    rng_seed(&r, 1);
    hist_init(&h);
    for (size_t i = 0; i < SAMPLES; i++) {
        vals[i] = 1000 + rng_below(&r, 10000000); /* 1 us .. 10 ms */
        hist_record(&h, vals[i]);
    }
    check_quantiles("uniform");
    /* and against the distribution itself: p50 = 5.0005 ms, p99 = 9.9 ms */
    assert_close((double)hist_quantile(&h, 0.5), 5000500, 0.01, "uniform vs theory", 0.5);
    assert_close((double)hist_quantile(&h, 0.99), 9901000, 0.01, "uniform vs theory", 0.99);
    assert_close(hist_mean(&h), 5000500, 0.01, "uniform mean", 0);
}

static void test_exponential(void **state)
{
    (void)state;
    struct rng r;
    rng_seed(&r, 2);
    hist_init(&h);
    for (size_t i = 0; i < SAMPLES; i++) {
        vals[i] = (uint64_t)(1e6 * rng_exp(&r)) + 1000; /* 1 us + Exp(mean 1 ms) */
        hist_record(&h, vals[i]);
    }
    check_quantiles("exponential");
    /* theory: 1 us + ln(1 / (1 - q)) ms */
    assert_close((double)hist_quantile(&h, 0.5), 1000 + 1e6 * log(2), 0.01, "exp vs theory", 0.5);
    assert_close((double)hist_quantile(&h, 0.99), 1000 + 1e6 * log(100), 0.01, "exp vs theory",
                 0.99);
}

/* Log-uniform over the whole range the brief names, 1 us to 60 s. */
static void test_log_uniform(void **state)
{
    (void)state;
    struct rng r;
    rng_seed(&r, 3);
    hist_init(&h);
    for (size_t i = 0; i < SAMPLES; i++) {
        vals[i] = (uint64_t)(1000 * exp(rng_uniform(&r) * log(60e9 / 1000)));
        hist_record(&h, vals[i]);
    }
    check_quantiles("log-uniform");
}

static void test_merge(void **state)
{
    (void)state;
    static struct hist a, b, all;
    struct rng r;
    rng_seed(&r, 4);
    hist_init(&a);
    hist_init(&b);
    hist_init(&all);
    for (int i = 0; i < 100000; i++) {
        uint64_t v = (uint64_t)(1e5 * rng_exp(&r));
        hist_record(i % 3 ? &a : &b, v);
        hist_record(&all, v);
    }
    hist_merge(&a, &b);
    assert_int_equal(a.count, all.count);
    assert_int_equal(a.min, all.min);
    assert_int_equal(a.max, all.max);
    assert_memory_equal(a.bucket, all.bucket, sizeof a.bucket);
    for (double q = 0; q <= 1.0; q += 0.01)
        assert_int_equal(hist_quantile(&a, q), hist_quantile(&all, q));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_layout), cmocka_unit_test(test_single_values),
        cmocka_unit_test(test_uniform),       cmocka_unit_test(test_exponential),
        cmocka_unit_test(test_log_uniform),   cmocka_unit_test(test_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
