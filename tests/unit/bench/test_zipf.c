/* Unit tests for percore-bench's Zipf sampler (rejection-inversion): sampled
 * rank frequencies against the exact probabilities k^-theta / H(n, theta), by
 * a chi-square test over all ranks and a per-rank check of the top ranks, for
 * theta 0.6, 0.9, 0.99, 1 (the log case) and 1.2.
 *
 * zipf.c is compiled into this test directly (#include of the .c file): the
 * top-level CMake links tests/unit/<dir>/test_*.c with percore_core only. The
 * seeds are fixed, so the outcome is deterministic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../../bench/percore-bench/zipf.c"

#define N 1000
#define DRAWS 2000000

static uint64_t counts[N + 1];

static void check_theta(double theta, uint64_t seed)
{
    struct zipf z;
    struct rng r;
    assert_int_equal(zipf_init(&z, N, theta), 0);
    rng_seed(&r, seed);
    memset(counts, 0, sizeof counts);
    for (int i = 0; i < DRAWS; i++) {
        uint64_t k = zipf_sample(&z, &r);
        assert_true(k >= 1 && k <= N);
        counts[k]++;
    }
    double hn = 0;
    for (int k = 1; k <= N; k++)
        hn += pow(k, -theta);
    /* chi-square over all N ranks (every expected count is above 5 here) */
    double chi2 = 0;
    for (int k = 1; k <= N; k++) {
        double e = DRAWS * pow(k, -theta) / hn;
        assert_true(e > 5);
        chi2 += (counts[k] - e) * (counts[k] - e) / e;
    }
    /* N - 1 degrees of freedom: mean 999, sd 44.7; 5 sd above the mean is a
     * false alarm once in millions, while a sampler off by 1% on the head
     * ranks already lands far above it */
    double limit = (N - 1) + 5 * sqrt(2.0 * (N - 1));
    if (chi2 > limit)
        fail_msg("theta %.2f: chi-square %.1f > %.1f", theta, chi2, limit);
    /* the head, rank by rank: within 4.5 binomial sd and within 2% */
    for (int k = 1; k <= 10; k++) {
        double p = pow(k, -theta) / hn, e = DRAWS * p, sd = sqrt(DRAWS * p * (1 - p));
        double dev = fabs((double)counts[k] - e);
        if (dev > 4.5 * sd || dev > 0.02 * e)
            fail_msg("theta %.2f rank %d: %llu draws, expected %.0f", theta, k,
                     (unsigned long long)counts[k], e);
    }
}

static void test_theta_0_6(void **state)
{
    (void)state;
    check_theta(0.6, 11);
}

static void test_theta_0_9(void **state)
{
    (void)state;
    check_theta(0.9, 12);
}

static void test_theta_0_99(void **state)
{
    (void)state;
    check_theta(0.99, 13);
}

static void test_theta_1(void **state)
{
    (void)state;
    check_theta(1.0, 14);
}

static void test_theta_1_2(void **state)
{
    (void)state;
    check_theta(1.2, 15);
}

/* A big key space costs no setup; rank 1's share still matches 1 / H(n). */
static void test_large_n(void **state)
{
    (void)state;
    const uint64_t n = 10000000;
    const double theta = 0.99;
    struct zipf z;
    struct rng r;
    assert_int_equal(zipf_init(&z, n, theta), 0);
    rng_seed(&r, 16);
    double hn = 0;
    for (uint64_t k = n; k >= 1; k--) /* smallest terms first, for accuracy */
        hn += pow((double)k, -theta);
    uint64_t ones = 0, draws = 1000000, top_half = 0;
    for (uint64_t i = 0; i < draws; i++) {
        uint64_t k = zipf_sample(&z, &r);
        assert_true(k >= 1 && k <= n);
        ones += k == 1;
        top_half += k > n / 2;
    }
    double p1 = 1.0 / hn, e = draws * p1, sd = sqrt(draws * p1 * (1 - p1));
    assert_true(fabs((double)ones - e) < 4.5 * sd);
    /* P(k > n/2) = sum over the upper half; some of the tail must be reached */
    double tail = 0;
    for (uint64_t k = n / 2 + 1; k <= n; k++)
        tail += pow((double)k, -theta);
    tail /= hn;
    double et = draws * tail, sdt = sqrt(draws * tail * (1 - tail));
    assert_true(fabs((double)top_half - et) < 4.5 * sdt);
}

static void test_edges(void **state)
{
    (void)state;
    struct zipf z;
    struct rng r;
    rng_seed(&r, 17);
    assert_int_equal(zipf_init(&z, 0, 1.0), -1);
    assert_int_equal(zipf_init(&z, 10, 0), -1);
    assert_int_equal(zipf_init(&z, 10, -1), -1);
    assert_int_equal(zipf_init(&z, 1, 0.99), 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(zipf_sample(&z, &r), 1);
    /* a steep exponent on two ranks: P(2) = 2^-3 / (1 + 2^-3) = 1/9 */
    assert_int_equal(zipf_init(&z, 2, 3.0), 0);
    int twos = 0;
    for (int i = 0; i < 90000; i++)
        twos += zipf_sample(&z, &r) == 2;
    assert_true(abs(twos - 10000) < 450);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_theta_0_6),  cmocka_unit_test(test_theta_0_9),
        cmocka_unit_test(test_theta_0_99), cmocka_unit_test(test_theta_1),
        cmocka_unit_test(test_theta_1_2),  cmocka_unit_test(test_large_n),
        cmocka_unit_test(test_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
