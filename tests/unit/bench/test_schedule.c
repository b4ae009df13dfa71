/* Unit tests for percore-bench's arrival schedule: fixed intervals are exact,
 * Poisson gaps have the right mean and spread, and bursts multiply the rate
 * exactly where and as much as asked — all to well within 1% of the offered
 * rate. (The achieved rate against a real server is test_rate.c.)
 *
 * schedule.c is compiled into this test directly (#include of the .c file): the
 * top-level CMake links tests/unit/<dir>/test_*.c with percore_core only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "../../../bench/percore-bench/schedule.c"

static void assert_rel(double got, double want, double rel, const char *what)
{
    if (fabs(got - want) > rel * fabs(want))
        fail_msg("%s: %.6g, expected %.6g within %.2f%%", what, got, want, rel * 100);
}

static void test_fixed(void **state)
{
    (void)state;
    struct schedule s;
    struct rng r;
    rng_seed(&r, 1);
    assert_int_equal(schedule_init(&s, 1000, 1, 1, 0, 0, 0), 0);
    for (int i = 1; i <= 100000; i++)
        assert_rel(schedule_next(&s, &r), i * 1e6, 1e-9, "fixed arrival time");
    /* a start offset shifts every arrival */
    assert_int_equal(schedule_init(&s, 1000, 1, 1, 0, 0, 250e3), 0);
    assert_rel(schedule_next(&s, &r), 1.25e6, 1e-12, "offset arrival");
}

static void test_poisson(void **state)
{
    (void)state;
    struct schedule s;
    struct rng r;
    rng_seed(&r, 2);
    const double rate = 50000, mean = 1e9 / rate;
    const int n = 1000000;
    assert_int_equal(schedule_init(&s, rate, 0, 1, 0, 0, 0), 0);
    double prev = 0, sum = 0, sum2 = 0;
    int above_mean = 0;
    for (int i = 0; i < n; i++) {
        double t = schedule_next(&s, &r), gap = t - prev;
        assert_true(gap > 0);
        prev = t;
        sum += gap;
        sum2 += gap * gap;
        above_mean += gap > mean;
    }
    double m = sum / n, sd = sqrt(sum2 / n - m * m);
    /* 1M exponential gaps: the mean's sd is 0.1%, so 0.5% is 5 sd */
    assert_rel(m, mean, 0.005, "mean gap");
    assert_rel(sd / m, 1.0, 0.01, "coefficient of variation");
    assert_rel((double)above_mean / n, exp(-1), 0.01, "P(gap > mean)");
    assert_rel(n / (prev / 1e9), rate, 0.005, "achieved schedule rate");
    assert_rel(schedule_mean_rate(&s), rate, 1e-12, "mean rate");
}

/* Counts arrivals inside and outside the bursts over many periods. */
static void check_bursts(int fixed)
{
    struct schedule s;
    struct rng r;
    rng_seed(&r, 3);
    const double base = 1000, factor = 5, period_ms = 100, len_ms = 20, horizon_s = 1000;
    assert_int_equal(schedule_init(&s, base, fixed, factor, period_ms, len_ms, 0), 0);
    uint64_t in = 0, out = 0;
    for (;;) {
        double t = schedule_next(&s, &r);
        if (t >= horizon_s * 1e9)
            break;
        if (fmod(t, period_ms * 1e6) < len_ms * 1e6)
            in++;
        else
            out++;
    }
    double in_s = horizon_s * len_ms / period_ms, out_s = horizon_s - in_s;
    double tol = fixed ? 0.001 : 0.01;
    assert_rel(in / in_s, base * factor, tol, "rate inside bursts");
    assert_rel(out / out_s, base, tol, "rate between bursts");
    double mean = base * (1 + (factor - 1) * len_ms / period_ms);
    assert_rel((in + out) / horizon_s, mean, tol, "mean rate with bursts");
    assert_rel(schedule_mean_rate(&s), mean, 1e-12, "schedule_mean_rate");
}

static void test_bursts_poisson(void **state)
{
    (void)state;
    check_bursts(0);
}

static void test_bursts_fixed(void **state)
{
    (void)state;
    check_bursts(1);
}

static void test_bad_parameters(void **state)
{
    (void)state;
    struct schedule s;
    assert_int_equal(schedule_init(&s, 0, 0, 1, 0, 0, 0), -1);
    assert_int_equal(schedule_init(&s, -5, 0, 1, 0, 0, 0), -1);
    assert_int_equal(schedule_init(&s, 100, 0, 0.5, 100, 10, 0), -1);
    assert_int_equal(schedule_init(&s, 100, 0, 2, 10, 100, 0), -1); /* len > period */
    assert_int_equal(schedule_init(&s, 100, 0, 2, 100, 0, 0), -1);
    assert_int_equal(schedule_init(&s, 100, 0, 2, 100, 100, 0), 0); /* always bursting */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed),          cmocka_unit_test(test_poisson),
        cmocka_unit_test(test_bursts_poisson), cmocka_unit_test(test_bursts_fixed),
        cmocka_unit_test(test_bad_parameters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
