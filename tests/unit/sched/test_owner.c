/* Unit tests for the starting partition → owner table: every worker owns one
 * range of consecutive partitions, the ranges ascend with the worker id and
 * differ in size by at most one, so an ascending partition list has one run
 * per owner (one lending round trip per owner under share-nothing). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "scheduler.h"

static void check_ranges(int nworkers, int nparts)
{
    assert_int_equal(sched_setup(nworkers, nparts, POLICY_SHARE_NOTHING, 16), 0);
    int owned_max = 0, owned_min = nparts + 1, runs = 0;
    for (int w = 0; w < nworkers; w++) {
        int n = 0;
        for (int p = 0; p < nparts; p++)
            n += sched_owner(p) == w;
        if (n > owned_max)
            owned_max = n;
        if (n < owned_min)
            owned_min = n;
    }
    for (int p = 0; p < nparts; p++) {
        assert_in_range(sched_owner(p), 0, nworkers - 1);
        if (p == 0 || sched_owner(p) != sched_owner(p - 1)) {
            runs++;
            if (p > 0)
                assert_true(sched_owner(p) > sched_owner(p - 1));
        }
    }
    int owners = nworkers < nparts ? nworkers : nparts;
    assert_int_equal(runs, owners);
    if (nworkers <= nparts)
        assert_true(owned_max - owned_min <= 1);
    sched_teardown();
}

static void test_two_workers_halves(void **state)
{
    (void)state;
    assert_int_equal(sched_setup(2, 16, POLICY_SHARE_NOTHING, 16), 0);
    for (int p = 0; p < 16; p++)
        assert_int_equal(sched_owner(p), p < 8 ? 0 : 1);
    sched_teardown();
}

static void test_ranges(void **state)
{
    (void)state;
    static const int shapes[][2] = {{1, 16}, {2, 16}, {3, 16}, {4, 16}, {5, 64},
                                    {7, 32}, {8, 16384}, {16, 16}, {12, 1024}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        check_ranges(shapes[i][0], shapes[i][1]);
}

static void test_more_workers_than_partitions(void **state)
{
    (void)state;
    check_ranges(32, 16); /* 16 owners, one partition each, the rest own none */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_workers_halves),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_more_workers_than_partitions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
